(function () {
  "use strict";
  var root = document.documentElement;
  var data = JSON.parse(document.getElementById("tp-data").textContent);
  var search = document.getElementById("tp-search");
  var kecamatan = document.getElementById("tp-filter-kecamatan");
  var status = document.getElementById("tp-filter-status");
  var rows = Array.prototype.slice.call(
    document.querySelectorAll("#tp-village-table tbody tr"));
  function norm(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }
  var keys = rows.map(function (r) { return norm(r.getAttribute("data-search") || ""); });
  function grouped(n, sep) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, sep); }
  function count() {
    var shown = rows.filter(function (r) { return !r.hidden; }).length;
    document.querySelectorAll("#tp-count [data-template]").forEach(function (el) {
      var sep = el.getAttribute("data-lang") === "id" ? "." : ",";
      el.textContent = el.getAttribute("data-template")
        .replace("{n}", grouped(shown, sep)).replace("{m}", grouped(rows.length, sep));
    });
  }
  function filter() {
    var q = norm(search.value), k = kecamatan.value, c = status.value;
    rows.forEach(function (r, i) {
      r.hidden = !((!q || keys[i].indexOf(q) >= 0) &&
                   (!k || r.getAttribute("data-kecamatan") === k) &&
                   (!c || r.getAttribute("data-class") === c));
    });
    count();
  }
  search.addEventListener("input", filter);
  kecamatan.addEventListener("change", filter);
  status.addEventListener("change", filter);
  function setLang(lang) {
    root.setAttribute("lang", lang);
    document.querySelectorAll("[data-set-lang]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-set-lang") === lang));
    });
    document.querySelectorAll("option[data-" + lang + "]").forEach(function (o) {
      o.textContent = o.getAttribute("data-" + lang);
    });
    search.placeholder = search.getAttribute("data-ph-" + lang);
    search.setAttribute("aria-label", search.placeholder);
  }
  function remembered() {  // the language chosen in this tab, kept across reloads
    try { return sessionStorage.getItem("tp-lang"); } catch (e) { return null; }
  }
  function remember(lang) {
    try { sessionStorage.setItem("tp-lang", lang); } catch (e) { /* storage refused */ }
  }
  document.querySelectorAll("[data-set-lang]").forEach(function (b) {
    b.addEventListener("click", function () {
      setLang(b.getAttribute("data-set-lang"));
      remember(b.getAttribute("data-set-lang"));
    });
  });
  var chosen = remembered();
  setLang(chosen === "id" || chosen === "en" ? chosen : root.getAttribute("lang"));
  filter();

  var map = L.map("tp-map", {zoomSnap: 0.25, attributionControl: false});
  var villages = L.geoJSON(data.villages, {
    style: function (f) {
      return {color: "#ffffff", weight: 1.5, opacity: 1, fillOpacity: 0.85,
              fillColor: data.classColors[f.properties.c]};
    },
    onEachFeature: function (f, layer) {
      layer.bindPopup(f.properties.popup, {maxWidth: 360});
      layer.bindTooltip(f.properties.tip, {sticky: true});
    }
  });
  function fit() {
    var box = map.getContainer();
    if (!box.clientWidth || !box.clientHeight) { return; }  // hidden or not laid out yet
    map.invalidateSize({pan: false});
    if (villages.getLayers().length) {
      map.fitBounds(villages.getBounds(), {padding: [18, 18]});
    } else { map.setView([-2.5, 118], 5); }
  }
  map.setView([-2.5, 118], 5);  // a view first: Leaflet draws paths only on a map that has one
  fit();
  villages.addTo(map);
  data.sites.forEach(function (s) {
    L.circleMarker([s.lat, s.lon], {
      radius: 7, color: "#1a1a1a", weight: 1.6, fillOpacity: 1,
      fillColor: data.stageColors[s.stage] || data.classColors.unknown,
      dashArray: s.centre ? "3 2" : null
    }).bindPopup(s.popup, {maxWidth: 360}).addTo(map);
  });
  // the screen may change size (a Command Center wall): keep the villages in view until
  // someone moves the map
  var touched = false;
  ["pointerdown", "wheel", "keydown"].forEach(function (name) {
    map.getContainer().addEventListener(name, function () { touched = true; });
  });
  window.addEventListener("resize", function () { if (!touched) { fit(); } });
})();

// flightrec transcript: search and type filter over the event list, timeline markers that open
// their event, and `#q=WORDS` to prefill the search. Reads text with textContent and writes
// only textContent and attributes it owns: no event text is ever parsed as HTML.
(function () {
  'use strict';
  var q = document.getElementById('q');
  var type = document.getElementById('type');
  var count = document.getElementById('count');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#list > li'));
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });

  function apply() {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var t = type.value;
    var shown = 0;
    rows.forEach(function (r, i) {
      var ok = (!t || r.getAttribute('data-type') === t) &&
        words.every(function (w) { return texts[i].indexOf(w) !== -1; });
      r.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + ' of ' + rows.length + ' events';
  }

  function open(id) {
    var li = document.getElementById(id);
    if (!li) { return; }
    if (li.hidden) { q.value = ''; type.value = ''; apply(); }
    var d = li.querySelector('details');
    if (d) { d.open = true; }
    li.scrollIntoView({ block: 'center' });
    li.classList.add('flash');
    setTimeout(function () { li.classList.remove('flash'); }, 1200);
  }

  var m = /^#q=(.*)$/.exec(window.location.hash);
  if (m) {
    try { q.value = decodeURIComponent(m[1].replace(/\+/g, ' ')); } catch (e) { q.value = m[1]; }
  }
  q.addEventListener('input', apply);
  type.addEventListener('change', apply);
  Array.prototype.forEach.call(document.querySelectorAll('[data-ev]'), function (el) {
    el.addEventListener('click', function () { open(el.getAttribute('data-ev')); });
  });
  apply();
  document.body.setAttribute('data-ready', '1');
}());

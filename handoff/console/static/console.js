// Frontdesk agent console: live updates, keyboard shortcuts, canned
// responses, local times. The pages work without this script; it only
// makes them faster to use. Plain JavaScript, no build step, nothing inline
// (the Content-Security-Policy forbids it).
(function () {
  'use strict';

  var body = document.body;
  var page = body.dataset.live || '';

  // --- Times and waiting clocks ----------------------------------------

  function pad(n) { return n < 10 ? '0' + n : '' + n; }

  function formatSeconds(s) {
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + pad(Math.floor(s % 3600 / 60)) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor(s % 86400 / 3600) + 'h';
  }

  function localizeTimes(root) {
    root.querySelectorAll('time[datetime]').forEach(function (t) {
      var d = new Date(t.getAttribute('datetime'));
      if (isNaN(d)) return;
      t.title = d.toString();
      t.textContent = d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    });
  }

  function tickClocks() {
    var now = Date.now();
    document.querySelectorAll('.wait[data-since]').forEach(function (el) {
      var since = Date.parse(el.dataset.since);
      var target = parseInt(el.dataset.target, 10) || 0;
      if (isNaN(since)) return;
      var secs = Math.max(0, Math.floor((now - since) / 1000));
      var over = target > 0 && secs > target;
      el.textContent = formatSeconds(secs) + ' / ' + formatSeconds(target);
      el.classList.toggle('over', over);
      var holder = el.closest('.entry, .thread-head');
      if (holder) holder.classList.toggle('breached', over);
    });
  }

  // --- Live updates ------------------------------------------------------

  // Regions marked data-swap are re-fetched from their data-src when an
  // event concerns them; the reply box is never among them, so a draft
  // survives. A region whose markup has not changed is left alone: an
  // agent may be selecting text in it or choosing from its menus.
  var rendered = new WeakMap(); // region → the markup it shows, as served
  var refreshTimer = null;
  var refreshing = false;
  var again = false;
  // A form was submitted and its answer is on its way (the submit handler
  // below marks it): a reload now would cancel that navigation, and with it
  // the action's notice.
  function submitting() { return document.querySelector('form[data-sent]') !== null; }

  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () { refreshTimer = null; refresh(); }, 250);
  }

  function refresh() {
    if (refreshing) { again = true; return; }
    var regions = document.querySelectorAll('[data-swap][data-src]');
    if (!regions.length) return;
    refreshing = true;
    var jobs = [];
    regions.forEach(function (el) {
      jobs.push(fetch(el.dataset.src, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
        .then(function (res) {
          // Signed out meanwhile (or the session expired): show the sign-in page.
          if (res.status === 401 || (res.redirected && res.url.indexOf('/console/login') >= 0)) { location.reload(); return null; }
          return res.ok ? res.text() : null;
        })
        .then(function (html) {
          if (html === null) return;
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var markup = doc.body.innerHTML.trim();
          if (markup === rendered.get(el)) return;
          rendered.set(el, markup);
          swap(el, doc.body);
        })
        .catch(function () { /* the next event tries again */ }));
    });
    Promise.all(jobs).then(function () {
      refreshing = false;
      // For tests and tools: how many refreshes have finished.
      body.dataset.refreshes = (parseInt(body.dataset.refreshes, 10) || 0) + 1;
      if (again) { again = false; scheduleRefresh(); }
    });
  }

  function swap(el, fresh) {
    var timeline = el.querySelector('#timeline');
    var atBottom = timeline ? timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40 : false;
    var selected = currentEntryId();
    var head = el.querySelector('#thread-head');
    var couldReply = head ? head.dataset.canReply : null;

    el.replaceChildren.apply(el, Array.prototype.slice.call(fresh.childNodes));
    localizeTimes(el);
    tickClocks();

    timeline = el.querySelector('#timeline');
    if (timeline && atBottom) timeline.scrollTop = timeline.scrollHeight;
    if (selected) selectEntry(document.querySelector('.entry[data-id="' + selected + '"]'), false);
    updateTitle();

    // Whether this agent may reply changed (someone claimed or resolved
    // the thread): reload for the right reply box, unless a draft would
    // be lost.
    head = el.querySelector('#thread-head');
    if (head && couldReply !== null && head.dataset.canReply !== couldReply) {
      var unsent = ['reply-text', 'reply-attachments', 'note-text'].some(function (id) {
        var box = document.getElementById(id);
        return box && box.value.trim();
      });
      if (!unsent && !submitting()) location.reload();
    }
  }

  function concernsThisPage(ev) {
    if (page === 'queue') return true;
    var region = document.querySelector('[data-conversations]');
    if (!region) return false;
    var ids = (region.dataset.conversations || '').split(',');
    return ids.indexOf(String(ev.conversation_id)) >= 0 || ev.type === 'handoff';
  }

  function setLiveState(state) {
    body.dataset.liveState = state;
    var badge = document.getElementById('live-status');
    if (!badge) return;
    badge.className = 'live ' + state;
    badge.textContent = state === 'on' ? 'live' : 'reconnecting…';
  }

  function startLive() {
    if (!page || !window.EventSource) return;
    var source = new EventSource('/console/events');
    source.onmessage = function (msg) {
      var ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      if (ev.type === 'ready') {
        // Changes made between rendering this page and subscribing — or,
        // for a later "ready", while reconnecting — were not heard:
        // catch up once.
        scheduleRefresh();
        setLiveState('on');
        return;
      }
      if (ev.type === 'resync' || concernsThisPage(ev)) scheduleRefresh();
    };
    source.onerror = function () { setLiveState('off'); };
  }

  // --- The queue: selection and keys -----------------------------------

  function entries() { return Array.prototype.slice.call(document.querySelectorAll('.entry')); }

  function currentEntryId() {
    var sel = document.querySelector('.entry.selected');
    return sel ? sel.dataset.id : null;
  }

  function selectEntry(entry, scroll) {
    entries().forEach(function (e) { e.classList.remove('selected'); });
    if (!entry) return;
    entry.classList.add('selected');
    if (scroll !== false) entry.scrollIntoView({ block: 'nearest' });
  }

  function moveSelection(step) {
    var list = entries();
    if (!list.length) return;
    var i = list.findIndex(function (e) { return e.classList.contains('selected'); });
    i = i < 0 ? 0 : Math.min(list.length - 1, Math.max(0, i + step));
    selectEntry(list[i]);
  }

  function updateTitle() {
    var counts = document.getElementById('queue-counts');
    if (!counts) return;
    var n = parseInt(counts.dataset.unassigned, 10) || 0;
    document.title = (n > 0 ? '(' + n + ') ' : '') + 'Queue · Frontdesk';
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener('keydown', function (e) {
    // Ctrl/Cmd+Enter sends the reply or note being typed.
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && e.target.tagName === 'TEXTAREA' && e.target.form) {
      e.preventDefault();
      e.target.form.requestSubmit();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (page === 'queue') {
      var sel = document.querySelector('.entry.selected');
      switch (e.key) {
        case 'j': moveSelection(1); e.preventDefault(); return;
        case 'k': moveSelection(-1); e.preventDefault(); return;
        case 'Enter':
          if (sel) { sel.querySelector('a.open').click(); e.preventDefault(); }
          return;
        case 'c':
          if (sel) {
            var claim = sel.querySelector('form.claim');
            if (claim) { claim.requestSubmit(); e.preventDefault(); }
          }
          return;
        case '/':
          var search = document.getElementById('search');
          if (search) { search.focus(); e.preventDefault(); }
          return;
      }
    }
    if (page === 'thread') {
      switch (e.key) {
        case 'r':
          var reply = document.getElementById('reply-text');
          if (reply) { reply.focus(); e.preventDefault(); }
          return;
        case 'n':
          var note = document.getElementById('note-text');
          if (note) { note.focus(); e.preventDefault(); }
          return;
        case 'c':
          var claimBtn = document.getElementById('claim');
          if (claimBtn) { claimBtn.form.requestSubmit(); e.preventDefault(); }
          return;
      }
    }
  });

  document.addEventListener('click', function (e) {
    var entry = e.target.closest && e.target.closest('.entry');
    if (entry && page === 'queue') selectEntry(entry, false);

    // Canned responses go into the reply box at the cursor.
    var chip = e.target.closest && e.target.closest('[data-canned]');
    if (!chip) return;
    var box = document.getElementById('reply-text');
    if (!box) return;
    var text = chip.dataset.canned;
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    var before = box.value.slice(0, start), after = box.value.slice(end);
    if (before && !/\s$/.test(before)) text = ' ' + text;
    box.value = before + text + after;
    box.focus();
    box.selectionStart = box.selectionEnd = (before + text).length;
  });

  // A submitted form cannot be sent twice by an impatient double click.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = '1';
    setTimeout(function () { delete form.dataset.sent; }, 5000);
  });

  // --- Start -------------------------------------------------------------

  // Before any script touches them (local times, selection).
  document.querySelectorAll('[data-swap][data-src]').forEach(function (el) {
    rendered.set(el, el.innerHTML.trim());
  });
  localizeTimes(document);
  tickClocks();
  setInterval(tickClocks, 15000);
  updateTitle();
  var timeline = document.getElementById('timeline');
  if (timeline) timeline.scrollTop = timeline.scrollHeight;
  if (page === 'queue' && !document.querySelector('.entry.selected')) {
    var first = document.querySelector('.entry');
    if (first) selectEntry(first, false);
  }
  if (page === 'thread' && document.getElementById('error')) {
    var draft = document.getElementById('reply-text');
    if (draft && draft.value) draft.focus();
  }
  startLive();
})();

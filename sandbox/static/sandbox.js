// Frontdesk sandbox: chat with the store's bot as a shopper. Every string
// from the server or the person is inserted with textContent, never as HTML.
'use strict';

(function () {
  const base = location.pathname.replace(/\/+$/, ''); // ".../sandbox"
  const api = (name) => base + '/api/' + name;
  const store = {
    get(key) { try { return localStorage.getItem('frontdesk.sandbox.' + key); } catch (e) { return null; } },
    set(key, value) { try { localStorage.setItem('frontdesk.sandbox.' + key, value); } catch (e) { /* private mode */ } },
  };
  const historyMax = 200;
  const platformNames = { messenger: 'Messenger', instagram: 'Instagram' };

  const el = {
    channels: document.getElementById('channels'),
    shopperId: document.getElementById('shopper-id'),
    newShopper: document.getElementById('new-shopper'),
    error: document.getElementById('error'),
    errorText: document.getElementById('error-text'),
    errorClose: document.getElementById('error-close'),
    messages: document.getElementById('messages'),
    empty: document.getElementById('empty'),
    composer: document.getElementById('composer'),
    text: document.getElementById('text'),
  };

  let channels = [];
  let platform = null;
  let shopper = null;
  let source = null;
  let seen = new Set();          // bot message ids shown
  const quickReplies = new WeakMap(); // bot message element → its quick replies
  let readTimer = null;
  let readPending = false;
  let streamBroken = false;

  // ---- errors ---------------------------------------------------------

  function showError(message) {
    el.errorText.textContent = message;
    el.error.hidden = false;
  }
  function hideError() { el.error.hidden = true; }
  el.errorClose.addEventListener('click', hideError);

  // ---- shopper ids and local history ----------------------------------

  function randomShopperId() {
    const digits = crypto.getRandomValues(new Uint8Array(16));
    let id = String(1 + (digits[0] % 9));
    for (let i = 1; i < digits.length; i++) id += String(digits[i] % 10);
    return id;
  }

  function shopperFor(p) {
    let id = store.get('shopper.' + p);
    if (!id || !/^[0-9]{1,64}$/.test(id)) {
      id = randomShopperId();
      store.set('shopper.' + p, id);
    }
    return id;
  }

  // The stub records only the bot's sends, so the shopper's own messages
  // are kept here to show the whole conversation after a reload.
  function historyKey() { return 'history.' + platform + '.' + shopper; }
  function loadHistory() {
    try {
      const list = JSON.parse(store.get(historyKey()) || '[]');
      return Array.isArray(list) ? list : [];
    } catch (e) { return []; }
  }
  function saveHistory(entry) {
    const list = loadHistory().filter((m) => m.id !== entry.id);
    list.push(entry);
    store.set(historyKey(), JSON.stringify(list.slice(-historyMax)));
  }

  // ---- rendering --------------------------------------------------------

  function timeLabel(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function nearBottom() {
    const m = el.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }
  function scrollToBottom() { el.messages.scrollTop = el.messages.scrollHeight; }

  // insert places node by its time among the messages shown.
  function insert(node, at) {
    node.dataset.at = String(at);
    const nodes = el.messages.querySelectorAll('.msg');
    let before = null;
    for (let i = nodes.length - 1; i >= 0; i--) {
      if (Number(nodes[i].dataset.at) <= at) break;
      before = nodes[i];
    }
    el.messages.insertBefore(node, before);
    el.empty.hidden = true;
  }

  function messageNode(who, text, at) {
    const node = document.createElement('div');
    node.className = 'msg msg-' + who;
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    bubble.textContent = text;
    const meta = document.createElement('div');
    meta.className = 'meta';
    const time = document.createElement('span');
    time.textContent = timeLabel(at);
    meta.appendChild(time);
    node.appendChild(bubble);
    node.appendChild(meta);
    return node;
  }

  // attachmentNode shows a file sent by link; only http(s) links are
  // clickable (the Graph stand-in accepts no other).
  function attachmentNode(att) {
    const label = 'Attachment (' + att.type + '): ' + att.url;
    if (!/^https?:\/\//i.test(att.url)) {
      const span = document.createElement('span');
      span.textContent = label;
      return span;
    }
    const link = document.createElement('a');
    link.className = 'attachment';
    link.href = att.url;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.textContent = label;
    return link;
  }

  function setStatus(node, status, failed) {
    let span = node.querySelector('.status');
    if (!span) {
      span = document.createElement('span');
      span.className = 'status';
      node.querySelector('.meta').appendChild(span);
    }
    span.textContent = status;
    node.classList.toggle('failed', Boolean(failed));
  }

  // renderQuickReplies shows the buttons of the latest message, if it is
  // the bot's; like Messenger, older ones disappear.
  function renderQuickReplies() {
    el.messages.querySelectorAll('.quick-replies').forEach((n) => n.remove());
    const nodes = el.messages.querySelectorAll('.msg');
    const last = nodes[nodes.length - 1];
    const qrs = last && quickReplies.get(last);
    if (!qrs || qrs.length === 0) return;
    const row = document.createElement('div');
    row.className = 'quick-replies';
    for (const qr of qrs) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = qr.title;
      button.addEventListener('click', () => send(qr.title, qr.payload));
      row.appendChild(button);
    }
    last.after(row);
  }

  function addShopperMessage(entry) {
    const node = messageNode('shopper', entry.text, entry.at);
    node.dataset.id = entry.id;
    insert(node, entry.at);
    if (entry.status) setStatus(node, entry.status, entry.failed);
    return node;
  }

  function addBotMessage(ev) {
    if (seen.has(ev.message_id)) return;
    seen.add(ev.message_id);
    const stick = nearBottom();
    const at = Date.parse(ev.at) || Date.now();
    const node = messageNode('bot', ev.text, at);
    node.dataset.id = ev.message_id;
    if (ev.attachment) node.querySelector('.bubble').appendChild(attachmentNode(ev.attachment));
    quickReplies.set(node, Array.isArray(ev.quick_replies) ? ev.quick_replies : []);
    insert(node, at);
    renderQuickReplies();
    if (stick) scrollToBottom();
    scheduleRead();
  }

  // ---- talking to the sandbox API --------------------------------------

  async function postJSON(name, body) {
    const resp = await fetch(api(name), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await resp.json(); } catch (e) { /* not JSON */ }
    if (!resp.ok) {
      throw new Error(data.error || ('the sandbox answered HTTP ' + resp.status));
    }
    return data;
  }

  async function send(text, payload) {
    if (!text.trim()) return;
    const entry = { id: 'local-' + Date.now() + '-' + Math.random().toString(16).slice(2), text, at: Date.now(), status: 'Sending…' };
    const node = addShopperMessage(entry);
    renderQuickReplies();
    scrollToBottom();
    try {
      const data = await postJSON('send', { platform, sender_id: shopper, text, payload: payload || '', kind: 'message' });
      const serverAt = Date.parse(data.at);
      if (serverAt) {
        // The server's clock orders the bot's replies; use it for ours too.
        entry.at = serverAt;
        node.dataset.at = String(serverAt);
      }
      if (data.status === 200) {
        entry.status = 'Sent';
        hideError();
      } else {
        entry.status = 'Not accepted (HTTP ' + data.status + ')';
        entry.failed = true;
        showError('The gateway answered HTTP ' + data.status + ' to the webhook: the message was not taken.');
      }
    } catch (e) {
      entry.status = 'Failed';
      entry.failed = true;
      showError('Could not send: ' + e.message);
    }
    setStatus(node, entry.status, entry.failed);
    saveHistory(entry);
  }

  // A read receipt goes out when bot messages are on screen while the page
  // is visible, as Messenger sends one when the shopper looks.
  function scheduleRead() {
    if (document.visibilityState !== 'visible') {
      readPending = true;
      return;
    }
    readPending = false;
    clearTimeout(readTimer);
    const p = platform;
    const s = shopper;
    readTimer = setTimeout(async () => {
      try {
        const data = await postJSON('read', { platform: p, sender_id: s });
        if (data.status !== 200) {
          showError('The gateway answered HTTP ' + data.status + ' to the read receipt.');
        }
      } catch (e) {
        showError('Could not send the read receipt: ' + e.message);
      }
    }, 400);
  }
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && readPending) scheduleRead();
  });

  function connect() {
    if (source) source.close();
    streamBroken = false;
    const q = new URLSearchParams({ platform, sender_id: shopper });
    source = new EventSource(api('events') + '?' + q.toString());
    const mine = source;
    source.onopen = () => {
      if (streamBroken) hideError();
      streamBroken = false;
    };
    source.onmessage = (e) => {
      if (mine !== source) return;
      let ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      addBotMessage(ev);
    };
    source.onerror = () => {
      if (mine !== source) return;
      streamBroken = true;
      if (source.readyState === EventSource.CLOSED) {
        showError('Cannot follow the bot\'s replies (is the Graph API stand-in configured?). Reload to try again.');
      } else {
        showError('Lost the connection to the bot\'s replies; reconnecting…');
      }
    };
  }

  // ---- switching channel and shopper -------------------------------------

  function show() {
    clearTimeout(readTimer);
    readPending = false;
    el.messages.querySelectorAll('.msg, .quick-replies').forEach((n) => n.remove());
    el.empty.hidden = false;
    seen = new Set();
    el.shopperId.textContent = shopper;
    document.body.dataset.platform = platform;
    for (const button of el.channels.querySelectorAll('button')) {
      button.setAttribute('aria-pressed', String(button.dataset.platform === platform));
    }
    for (const entry of loadHistory()) addShopperMessage(entry);
    renderQuickReplies();
    scrollToBottom();
    connect();
  }

  function choose(p) {
    platform = p;
    store.set('platform', p);
    shopper = shopperFor(p);
    hideError();
    show();
    el.text.focus();
  }

  el.newShopper.addEventListener('click', () => {
    shopper = randomShopperId();
    store.set('shopper.' + platform, shopper);
    hideError();
    show();
    el.text.focus();
  });

  el.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = el.text.value;
    if (!text.trim() || !platform) return;
    el.text.value = '';
    send(text, '');
  });

  async function start() {
    try {
      const resp = await fetch(api('channels'));
      if (!resp.ok) throw new Error('HTTP ' + resp.status);
      channels = await resp.json();
    } catch (e) {
      showError('Could not load the channels: ' + e.message);
      return;
    }
    if (!Array.isArray(channels) || channels.length === 0) {
      showError('No sandbox channels are configured.');
      return;
    }
    for (const ch of channels) {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.platform = ch.platform;
      button.className = 'channel channel-' + ch.platform;
      const kind = document.createElement('span');
      kind.className = 'channel-platform';
      kind.textContent = platformNames[ch.platform] || ch.platform;
      const name = document.createElement('span');
      name.className = 'channel-name';
      name.textContent = ch.name || ch.id;
      button.appendChild(kind);
      button.appendChild(name);
      button.addEventListener('click', () => { if (ch.platform !== platform) choose(ch.platform); });
      el.channels.appendChild(button);
    }
    const saved = store.get('platform');
    choose(channels.some((ch) => ch.platform === saved) ? saved : channels[0].platform);
  }

  start();
})();

// The Nexus console: plain DOM and SVG on the HTTP API (docs/http.md), no
// framework and nothing fetched from elsewhere. Every value from the server
// goes in as text (textContent, attributes), never as HTML.
'use strict';

const view = document.getElementById('view');
const ENDS = ['saga_completed', 'saga_compensated', 'saga_failed', 'saga_cancelled'];
let leave = () => {}; // what the current view must stop when another replaces it

// -- the API ------------------------------------------------------------------

function token() {
  return sessionStorage.getItem('nexus-token') || '';
}

function askToken() {
  const dialog = document.getElementById('token-dialog');
  if (!dialog.open)
    dialog.showModal();
}

document.getElementById('token-form').addEventListener('submit', () => {
  sessionStorage.setItem('nexus-token', document.getElementById('token-input').value);
  render();
});

async function api(path, options = {}) {
  const headers = {Accept: 'application/json'};
  if (token())
    headers.Authorization = 'Bearer ' + token();
  if (options.body !== undefined)
    headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method: options.method || 'GET', headers, signal: options.signal,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (r.status === 401) {
    askToken();
    throw new Error('this server needs its HTTP token');
  }
  const text = await r.text();
  const body = text ? JSON.parse(text) : null;
  if (!r.ok)
    throw new Error((body && (body.detail || body.title)) || 'HTTP ' + r.status);
  return body;
}

/// Server-sent events from `path`, read with fetch (EventSource sends no
/// Authorization header): `onEvent(data)` for each `data:` line.
async function stream(path, signal, onEvent) {
  const headers = {Accept: 'text/event-stream'};
  if (token())
    headers.Authorization = 'Bearer ' + token();
  const r = await fetch(path, {headers, signal});
  if (r.status === 401) {
    askToken();
    throw new Error('this server needs its HTTP token');
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done)
      return;
    buffered += decoder.decode(value, {stream: true});
    let end;
    while ((end = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, end).replace(/\r$/, '');
      buffered = buffered.slice(end + 1);
      if (line.startsWith('data:'))
        onEvent(JSON.parse(line.slice(5).trim()));
    }
  }
}

// -- the DOM ------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'on')
      for (const [type, f] of Object.entries(v))
        e.addEventListener(type, f);
    else if (v !== undefined && v !== null && v !== false)
      e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== undefined && c !== null)
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs))
    if (v !== undefined && v !== null)
      e.setAttribute(k, String(v));
  for (const c of children)
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function status(s) {
  return el('span', {class: 'status ' + s, 'data-status': s}, s);
}

function show(...nodes) {
  view.replaceChildren(...nodes.flat().filter(n => n !== null && n !== undefined));
}

function failure(err) {
  return el('p', {class: 'error'}, String(err.message || err));
}

function sagaLink(cid) {
  return el('a', {href: '#/saga/' + encodeURIComponent(cid), class: 'mono'}, cid);
}

function ms(us) {
  return us < 1000 ? us + ' µs' : us < 1e6 ? (us / 1000).toFixed(1) + ' ms' : (us / 1e6).toFixed(2) + ' s';
}

function time(ts) {
  return Date.parse(ts) * 1000 + Number((ts.match(/\.\d{3}(\d{3})/) || [0, 0])[1]);
}

// -- the sagas ----------------------------------------------------------------

async function renderSagas(params) {
  const q = new URLSearchParams({limit: '50'});
  for (const k of ['status', 'saga', 'cursor'])
    if (params.get(k))
      q.set(k, params.get(k));
  const [list, stats] = await Promise.all([api('/v1/sagas?' + q), api('/v1/stats')]);
  const names = [...new Set((stats.definitions || []).map(d => d.saga))].sort();
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes))
      v ? next.set(k, v) : next.delete(k);
    location.hash = '#/sagas?' + next;
  };
  const statusSelect = el('select', {id: 'filter-status', 'aria-label': 'Status',
                                     on: {change: e => go({status: e.target.value, cursor: ''})}},
    el('option', {value: ''}, 'any status'),
    ['running', 'compensating', 'completed', 'compensated', 'failed', 'cancelled'].map(
      s => el('option', {value: s, selected: params.get('status') === s}, s)));
  const sagaSelect = el('select', {id: 'filter-saga', 'aria-label': 'Saga',
                                   on: {change: e => go({saga: e.target.value, cursor: ''})}},
    el('option', {value: ''}, 'any saga'),
    names.map(n => el('option', {value: n, selected: params.get('saga') === n}, n)));
  const rows = list.sagas.map(s => el('tr', {'data-cid': s.cid},
    el('td', {}, sagaLink(s.cid)), el('td', {}, s.saga), el('td', {}, status(s.status)),
    el('td', {}, s.steps_done + ' / ' + s.steps_total), el('td', {class: 'mono'}, s.started),
    el('td', {class: 'mono'}, s.updated), el('td', {class: 'muted'}, s.parked ? 'parked' : s.waiting_for || '')));
  show(el('h1', {}, 'Sagas'),
       el('div', {class: 'filters'}, statusSelect, sagaSelect,
          el('span', {class: 'muted'}, list.sagas.length + ' shown')),
       el('table', {id: 'sagas'},
          el('thead', {}, el('tr', {}, ['correlation ID', 'saga', 'status', 'steps', 'started',
                                         'updated', ''].map(h => el('th', {}, h)))),
          el('tbody', {}, rows)),
       el('div', {class: 'pager'},
          params.get('cursor') ? el('button', {on: {click: () => history.back()}}, 'Newer') : null,
          list.next_cursor ? el('button', {id: 'next-page', on: {click: () => go({cursor: list.next_cursor})}},
                                'Older') : null));
}

// -- one saga -----------------------------------------------------------------

async function allEvents(cid) {
  const events = [];
  let after = 0;
  for (;;) {
    const page = await api(`/v1/sagas/${encodeURIComponent(cid)}/events?limit=1000&after_seq=${after}`);
    events.push(...page.events);
    if (!page.next_after_seq)
      return events;
    after = page.next_after_seq;
  }
}

/// The bars of a saga's timeline: each attempt of a step or compensation,
/// and the marks (retries, breaker refusals, signals, the end) on its row.
function attemptsOf(events) {
  const bars = [], marks = [], open = new Map(), rows = [];
  const row = name => (rows.includes(name) || rows.push(name), name);
  for (const e of events) {
    const at = time(e.ts);
    const key = (k) => k + ':' + e.step + ':' + e.attempt;
    switch (e.type) {
      case 'step_started':
      case 'compensation_started': {
        const comp = e.type === 'compensation_started';
        const b = {kind: comp ? 'compensation' : 'step', step: e.step, attempt: e.attempt,
                   row: row(comp ? e.step + ' (compensation)' : e.step), start: at, end: null,
                   outcome: 'running'};
        open.set(key(b.kind), b);
        bars.push(b);
        break;
      }
      case 'step_waiting': {
        const b = open.get(key(e.compensation ? 'compensation' : 'step'));
        if (b) {
          b.waiting = e.signal ? 'signal ' + e.signal : 'sleep';
          b.wake = e.wake_at;
        }
        break;
      }
      case 'step_succeeded':
      case 'step_failed':
      case 'compensation_succeeded':
      case 'compensation_failed': {
        const comp = e.type.startsWith('compensation');
        const b = open.get(key(comp ? 'compensation' : 'step'));
        if (!b)
          break;
        open.delete(key(b.kind));
        b.end = at;
        b.outcome = e.type.endsWith('succeeded') ? 'ok' : 'failed';
        b.error_kind = e.error_kind;
        b.message = e.message;
        b.output = e.output;
        if (e.error_kind === 'circuit_open')
          marks.push({row: b.row, at, text: '⊘ refused', title: e.message});
        else if (e.error_kind === 'timeout')
          marks.push({row: b.row, at, text: '⏱ timeout', title: e.message});
        break;
      }
      case 'step_retry_scheduled':
        marks.push({row: row(e.compensation ? e.step + ' (compensation)' : e.step), at,
                    text: '↻ retry', title: 'attempt ' + e.attempt + ' at ' + e.retry_at});
        break;
      case 'signal_received':
        marks.push({row: rows[0] || row('saga'), at, text: '✉ ' + e.signal, title: e.data || ''});
        break;
      case 'cancel_requested':
        marks.push({row: rows[0] || row('saga'), at, text: '✕ cancel', title: 'cancel requested'});
        break;
      default:
        if (ENDS.includes(e.type))
          marks.push({row: rows[rows.length - 1] || row('saga'), at, text: '■ ' + e.type.slice(5),
                      title: e.message || ''});
    }
  }
  return {bars, marks, rows};
}

function timeline(events, onPick) {
  const {bars, marks, rows} = attemptsOf(events);
  const t0 = events.length ? time(events[0].ts) : 0;
  const last = Math.max(t0 + 1, ...events.map(e => time(e.ts)), ...bars.map(b => b.end || Date.now() * 1000));
  const left = 190, width = 860, rowH = 26, top = 24;
  const x = t => left + (t - t0) / (last - t0) * width;
  const g = svg('svg', {width: left + width + 130, height: top + rows.length * rowH + 10,
                        role: 'img', 'aria-label': 'timeline'});
  for (let i = 0; i <= 4; ++i) {
    const t = t0 + (last - t0) * i / 4;
    g.append(svg('line', {class: 'axis', x1: x(t), x2: x(t), y1: top - 6, y2: top + rows.length * rowH}),
             svg('text', {class: 'tick', x: x(t) - 10, y: 12}, '+' + ms(Math.round(t - t0))));
  }
  rows.forEach((name, i) => g.append(svg('text', {class: 'label', x: 4, y: top + i * rowH + 16}, name)));
  for (const b of bars) {
    const y = top + rows.indexOf(b.row) * rowH + 4;
    const end = b.end || last;
    const cls = ['bar', b.kind === 'compensation' ? 'compensation' : '', b.waiting && b.outcome !== 'failed' && !b.end ? 'waiting' : '',
                 b.outcome].join(' ');
    const rect = svg('rect', {class: cls, x: x(b.start), y, height: rowH - 8,
                              width: Math.max(2, x(end) - x(b.start)), rx: 2,
                              'data-kind': b.kind, 'data-step': b.step, 'data-attempt': b.attempt,
                              'data-start': b.start, 'data-outcome': b.outcome},
      svg('title', {}, `${b.kind === 'compensation' ? 'compensation of ' : ''}${b.step} #${b.attempt}: ` +
          `${b.outcome}${b.error_kind ? ' (' + b.error_kind + ')' : ''}, ${ms(end - b.start)}` +
          (b.waiting ? `, waited for ${b.waiting}` : '') + (b.message ? '\n' + b.message : '')));
    rect.addEventListener('click', () => onPick(b));
    g.append(rect);
  }
  for (const m of marks)
    g.append(svg('text', {class: 'mark', x: x(m.at) + 3, y: top + rows.indexOf(m.row) * rowH + 15},
                 m.text, svg('title', {}, m.title)));
  return el('div', {class: 'timeline card', id: 'timeline'}, g);
}

async function renderSaga(cid) {
  const [saga, events] = await Promise.all([api('/v1/sagas/' + encodeURIComponent(cid)), allEvents(cid)]);
  const detail = el('pre', {class: 'detail', id: 'detail'}, 'Click a bar for its attempt.');
  const pick = b => {
    detail.textContent = JSON.stringify({step: b.step, attempt: b.attempt, kind: b.kind,
                                         outcome: b.outcome, error_kind: b.error_kind, error: b.message,
                                         output: b.output ? JSON.parse(b.output) : undefined,
                                         waited_for: b.waiting}, null, 2);
  };
  const act = (what) => async () => {
    try {
      await api(`/v1/sagas/${encodeURIComponent(cid)}/${what}`, {method: 'POST', body: {}});
      await api(`/v1/sagas/${encodeURIComponent(cid)}?wait=10`);
    } catch (err) {
      view.prepend(failure(err));
    }
    render();
  };
  const live = saga.status === 'running' || saga.status === 'compensating';
  show(el('h1', {}, 'Saga ', el('span', {class: 'mono'}, cid), ' ', status(saga.status)),
       el('dl', {class: 'meta'},
          el('dt', {}, 'saga'), el('dd', {}, saga.saga),
          el('dt', {}, 'definition'), el('dd', {class: 'mono'}, saga.definition),
          el('dt', {}, 'steps'), el('dd', {}, saga.steps_done + ' / ' + saga.steps_total),
          el('dt', {}, 'started'), el('dd', {class: 'mono'}, saga.started),
          el('dt', {}, 'updated'), el('dd', {class: 'mono'}, saga.updated),
          saga.trace_id ? [el('dt', {}, 'trace'), el('dd', {class: 'mono'}, saga.trace_id)] : null),
       el('div', {class: 'actions'},
          el('button', {id: 'cancel', class: 'danger', disabled: !live, on: {click: act('cancel')}}, 'Cancel'),
          el('button', {id: 'retry', disabled: saga.status !== 'failed', on: {click: act('retry')}},
             'Retry compensation')),
       el('h2', {}, 'Timeline'),
       el('div', {class: 'legend'}, [['ok', 'succeeded'], ['failed', 'failed'], ['comp', 'compensation'],
                                     ['wait', 'waiting'], ['run', 'running']].map(
         ([c, t]) => el('span', {}, el('i', {class: 'swatch ' + c}), t))),
       timeline(events, pick), detail,
       el('h2', {}, 'Input'), el('pre', {class: 'detail'}, JSON.stringify(saga.input, null, 2)),
       el('h2', {}, 'Events'),
       el('table', {id: 'events'}, el('tbody', {}, events.map(e => el('tr', {},
         el('td', {class: 'mono'}, e.seq), el('td', {class: 'mono'}, e.ts), el('td', {}, e.type),
         el('td', {}, e.step ? e.step + (e.attempt ? ' #' + e.attempt : '') : ''),
         el('td', {class: 'muted'}, e.error_kind ? e.error_kind + ': ' + (e.message || '') : e.message || ''))))));
  if (live) { // its end shows without a reload
    const stop = new AbortController();
    leave = () => stop.abort();
    api(`/v1/sagas/${encodeURIComponent(cid)}?wait=30`, {signal: stop.signal})
      .then(() => { if (!stop.signal.aborted) render(); }, () => {});
  }
}

// -- breakers -----------------------------------------------------------------

async function renderBreakers(params) {
  const list = await api('/v1/breakers');
  const chosen = params.get('resource');
  const history = chosen ? (await api('/v1/breakers?resource=' + encodeURIComponent(chosen))).breakers[0] : null;
  show(el('h1', {}, 'Breakers'),
       el('table', {id: 'breakers'},
          el('thead', {}, el('tr', {}, ['resource', 'state', 'failure rate', 'slow-call rate', 'calls'].map(
            h => el('th', {}, h)))),
          el('tbody', {}, list.breakers.map(b => el('tr', {'data-resource': b.resource},
            el('td', {}, el('a', {href: '#/breakers?resource=' + encodeURIComponent(b.resource)}, b.resource)),
            el('td', {}, status(b.state)),
            el('td', {}, b.failure_rate >= 0 ? b.failure_rate + ' %' : '–'),
            el('td', {}, b.slow_call_rate >= 0 ? b.slow_call_rate + ' %' : '–'),
            el('td', {}, b.calls ?? ''))))),
       history ? [el('h2', {}, 'History of ' + chosen),
                  el('table', {id: 'breaker-history'}, el('tbody', {}, (history.history || []).map(e => el('tr', {},
                    el('td', {class: 'mono'}, e.ts), el('td', {}, e.type.replace('breaker_', '')),
                    el('td', {class: 'muted'}, `failure rate ${e.failure_rate} %, slow ${e.slow_call_rate} %, ` +
                                              `${e.calls} calls`))))),
                  (history.history || []).length ? null : el('p', {class: 'muted'}, 'No transitions yet.')] : null);
}

// -- live ---------------------------------------------------------------------

async function renderLive() {
  const stop = new AbortController();
  leave = () => stop.abort();
  const recent = [];
  const figures = el('div', {class: 'figures', id: 'figures'});
  const list = el('tbody', {});
  show(el('h1', {}, 'Live'), figures, el('h2', {}, 'Sagas ending'), el('table', {id: 'live'}, list));
  const draw = async () => {
    const now = Date.now();
    while (recent.length && recent[0].at < now - 10000)
      recent.shift();
    const per = s => (recent.filter(r => r.status === s).length / 10).toFixed(1);
    let engine = {};
    try {
      engine = (await api('/v1/stats', {signal: stop.signal})).engine;
    } catch (err) {
      return;
    }
    figures.replaceChildren(...[['completed/s', per('completed')], ['compensated/s', per('compensated')],
                                ['failed/s', per('failed')], ['cancelled/s', per('cancelled')],
                                ['running', engine.not_ended], ['parked', engine.parked]].map(
      ([k, v]) => el('div', {class: 'card'}, el('b', {}, v ?? 0), k)));
  };
  const timer = setInterval(draw, 1000);
  stop.signal.addEventListener('abort', () => clearInterval(timer));
  draw();
  stream('/v1/events', stop.signal, e => {
    if (!ENDS.includes(e.type))
      return;
    const s = e.type.slice(5);
    // The stream starts from the log's beginning: a rate counts the ends of
    // the last ten seconds by their own time.
    const at = time(e.ts) / 1000;
    if (at >= Date.now() - 10000)
      recent.push({at, status: s});
    list.prepend(el('tr', {}, el('td', {class: 'mono'}, e.ts), el('td', {}, sagaLink(e.cid)),
                        el('td', {}, e.saga || ''), el('td', {}, status(s))));
    while (list.children.length > 100)
      list.lastChild.remove();
  }).catch(err => { if (!stop.signal.aborted) view.append(failure(err)); });
}

// -- routing ------------------------------------------------------------------

async function render() {
  leave();
  leave = () => {};
  const [path, query] = (location.hash.slice(1) || '/sagas').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('[data-nav]'))
    a.classList.toggle('active', a.dataset.nav === (parts[0] === 'saga' ? 'sagas' : parts[0]));
  try {
    if (parts[0] === 'saga' && parts[1])
      await renderSaga(decodeURIComponent(parts.slice(1).join('/')));
    else if (parts[0] === 'breakers')
      await renderBreakers(params);
    else if (parts[0] === 'live')
      await renderLive();
    else
      await renderSagas(params);
  } catch (err) {
    show(failure(err));
  }
}

document.getElementById('search').addEventListener('submit', e => {
  e.preventDefault();
  const cid = document.getElementById('search-cid').value.trim();
  if (cid)
    location.hash = '#/saga/' + encodeURIComponent(cid);
});
window.addEventListener('hashchange', render);
render();

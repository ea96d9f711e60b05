// The supervision dashboard: live alerts over Server-Sent Events (read with fetch, so the bearer
// token travels in a header), a board of open yellow and red cards by department and town, the
// open warnings (prompts before a deadline, not cards) listed apart, whether a month is closed,
// on-time and satisfaction rates per org for the last 12 months drawn as inline SVG, and a case
// lookup with its timeline, the cases due today or this week (five working days) from
// GET /api/v1/cases?due_within=, and the 督办 board: open correction orders by due date, overdue first,
// escalations marked, each escalated card linking to its 监察建议书. Chinese labels with an English switch. No framework, no build step.
'use strict';

const TEXT = {
  zh: {
    title: '行政审批电子监察', connect: '连接', token_placeholder: '访问令牌', live: '实时预警',
    live_empty: '暂无新预警', board: '红黄牌看板', departments: '区中心部门', towns: '镇街',
    other: '其他', charts: '近12个月按时办结率、满意率与整改率', depth: '机构层级',
    on_time_rate: '按时办结率', satisfaction_rate: '满意率', correction_rate: '督办按时整改率',
    rectification_rate: '差评整改率', lookup: '案件查询', search: '查询',
    raised: '发出', closed: '解除', withdrawn: '撤销', yellow: '黄牌', red: '红牌', acknowledge: '确认',
    acknowledged: '已确认', status_live: '实时', status_connecting: '连接中',
    status_idle: '未连接', status_error: '连接失败', need_token: '请输入访问令牌',
    no_data: '暂无数据', not_found: '未找到该案件', forbidden: '无权限', failed: '请求失败',
    open_cards: '张未解除', item: '事项', org: '责任单位', state: '状态',
    promised_due_on: '承诺期限', statutory_due_on: '法定期限', used_days: '已用工作日',
    remaining_days: '剩余工作日', on_time: '按时办结', lang: 'English',
    warning: '预警', prompts: '预警提示', prompts_empty: '暂无预警提示', month: '考核月份',
    period_closed: '已关账', period_open: '未关账',
    due_cases: '到期案件', due_today: '今日到期', due_week: '本周到期',
    due_empty: '点击查看今日或本周到期的案件', due_none: '没有到期的案件',
    rules: {
      'deadline.promised.warning': '承诺时限预警', 'deadline.promised.overdue': '超承诺时限',
      'deadline.statutory.overdue': '超法定时限', 'intake.correction.repeated': '多次补正',
      'intake.correction.late': '补正告知超期', 'intake.materials.incomplete': '材料不全受理',
      'procedure.step.skipped': '程序环节缺失', 'procedure.no_decision': '无决定办结',
      'suspension.unlawful': '违规暂停', 'fee.mismatch': '收费不符',
      'extension.excessive': '违规延期', 'case.stalled': '案件停滞', 'rating.bad': '差评',
      'data.backdated': '补录倒签', 'intake.acceptance.late': '补正后受理超期',
      'intake.limits.overridden': '擅自延长时限', 'intake.item.unknown': '事项未登记',
      'procedure.no_acceptance': '未受理即办结', 'procedure.after_conclusion': '办结后操作',
      'suspension.overlong': '暂停超期',
      'supervision.unacknowledged': '未及时签收', 'supervision.correction.overdue': '督办逾期未回告',
      'supervision.escalated': '督办升级', 'supervision.notify.failed': '推送失败',
      'rating.unverified': '差评未及时核实', 'rating.rectification.overdue': '差评整改逾期',
      'rating.duplicate': '重复评价', 'rating.defaulted': '默认评价', 'complaint.acceptance.late': '投诉受理超时',
      'complaint.reply.late': '投诉答复超时',
    },
    orders: '督办看板', orders_empty: '暂无督办事项', overdue: '逾期', escalated: '已升级',
    escalated_to: '升级至', due_on: '回告期限', round: '第{n}轮', notice: '监察建议书',
    order_states: { ordered: '待回告', reported: '待核查', closed: '已办结' },
    states: {
      submitted: '已申请', running: '办理中', suspended: '暂停', concluded: '已办结',
      withdrawn: '已撤回', rejected: '不予受理',
    },
  },
  en: {
    title: 'Approval supervision', connect: 'Connect', token_placeholder: 'Access token',
    live: 'Live alerts', live_empty: 'No new alerts yet', board: 'Card board',
    departments: 'Center departments', towns: 'Towns', other: 'Other',
    charts: 'On-time, satisfaction and correction rates, last 12 months', depth: 'Org depth',
    on_time_rate: 'On-time rate', satisfaction_rate: 'Satisfaction rate',
    correction_rate: 'Orders corrected on time', rectification_rate: 'Bad ratings rectified', lookup: 'Case lookup',
    search: 'Search', raised: 'raised', closed: 'closed', withdrawn: 'withdrawn', yellow: 'yellow', red: 'red',
    acknowledge: 'Acknowledge', acknowledged: 'acknowledged', status_live: 'live',
    status_connecting: 'connecting', status_idle: 'not connected', status_error: 'failed',
    need_token: 'Enter an access token', no_data: 'No data', not_found: 'No such case',
    forbidden: 'Not allowed', failed: 'Request failed', open_cards: 'open', item: 'Item',
    org: 'Org', state: 'Status', promised_due_on: 'Promised due', statutory_due_on: 'Statutory due',
    used_days: 'Working days used', remaining_days: 'Working days left', on_time: 'On time',
    lang: '中文', warning: 'prompt', prompts: 'Prompts', prompts_empty: 'No prompts',
    month: 'Month', period_closed: 'closed', period_open: 'open',
    due_cases: 'Cases falling due', due_today: 'Due today', due_week: 'Due this week',
    due_empty: 'Click to list the cases due today or this week', due_none: 'No case falls due',
    rules: {
      'deadline.promised.warning': 'Promised limit near', 'deadline.promised.overdue': 'Past promised limit',
      'deadline.statutory.overdue': 'Past statutory limit', 'intake.correction.repeated': 'Repeated correction',
      'intake.correction.late': 'Late intake answer', 'intake.materials.incomplete': 'Accepted incomplete',
      'procedure.step.skipped': 'Step skipped', 'procedure.no_decision': 'No decision',
      'suspension.unlawful': 'Unlawful suspension', 'fee.mismatch': 'Fee mismatch',
      'extension.excessive': 'Excessive extension', 'case.stalled': 'Stalled', 'rating.bad': 'Bad rating',
      'data.backdated': 'Back-dated entry', 'intake.acceptance.late': 'Late acceptance after supplements',
      'intake.limits.overridden': 'Limits lengthened at acceptance', 'intake.item.unknown': 'Item not in the catalog',
      'procedure.no_acceptance': 'Concluded without acceptance', 'procedure.after_conclusion': 'Action after the end',
      'suspension.overlong': 'Suspension overran its notice',
      'supervision.unacknowledged': 'Not acknowledged in time', 'supervision.correction.overdue': 'Correction not reported back',
      'supervision.escalated': 'Escalated', 'supervision.notify.failed': 'Notification failed',
      'rating.unverified': 'Bad rating not verified', 'rating.rectification.overdue': 'Rectification overdue',
      'rating.duplicate': 'Repeated rating', 'rating.defaulted': 'Default rating', 'complaint.acceptance.late': 'Complaint not accepted in time',
      'complaint.reply.late': 'Complaint not answered in time',
    },
    orders: 'Correction orders', orders_empty: 'No correction orders', overdue: 'overdue', escalated: 'escalated',
    escalated_to: 'escalated to', due_on: 'report back by', round: 'round {n}', notice: 'Supervision notice',
    order_states: { ordered: 'awaiting report-back', reported: 'awaiting verification', closed: 'closed' },
    states: {
      submitted: 'submitted', running: 'running', suspended: 'suspended', concluded: 'concluded',
      withdrawn: 'withdrawn', rejected: 'rejected',
    },
  },
};

const LIVE_ITEMS_MAX = 100;
const MONTHS = 12;
const CHART_ORGS_MAX = 6;
const COLORS = ['#1565c0', '#2e7d32', '#c62828', '#6a1b9a', '#ef6c00', '#00838f'];
const RECONNECT_MS = 2000;

const state = {
  lang: localStorage.getItem('jiancha.lang') || 'zh',
  token: sessionStorage.getItem('jiancha.token') || '',
  auth: true,
  open: new Map(),
  lastId: null,
  loading: false,
  buffered: [],
  now: null,
  stream: null,
  closes: new Map(),
};

// A warning is a prompt before a deadline (预警提示), listed apart; yellow and red are cards.
const isCard = (a) => a.severity !== 'warning';

const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[state.lang][key] ?? key;
const ruleName = (code) => TEXT[state.lang].rules[code] ?? code;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function applyLanguage() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  $('lang').textContent = t('lang');
  setStatus($('status').dataset.state);
  renderBoard();
  renderOrders();
  renderMonth();
}

function setStatus(s) {
  const node = $('status');
  node.dataset.state = s;
  node.textContent = t('status_' + s);
}

function showMessage(text) {
  const node = $('message');
  node.hidden = !text;
  node.textContent = text || '';
}

function headers() {
  return state.token ? { Authorization: 'Bearer ' + state.token } : {};
}

async function api(path, options) {
  const res = await fetch(path, { ...(options || {}), headers: { ...headers(), ...((options || {}).headers || {}) } });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) {
    const error = new Error(body?.message || res.statusText);
    error.status = res.status;
    throw error;
  }
  return body;
}

// ---- live stream ----------------------------------------------------------------------------

function parseBlock(block) {
  const event = { type: 'message', id: null, data: [] };
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event.type = value;
    else if (field === 'id') event.id = value;
    else if (field === 'data') event.data.push(value);
  }
  return event.data.length || event.id !== null ? event : null;
}

async function follow(signal) {
  while (!signal.aborted) {
    setStatus('connecting');
    try {
      const h = headers();
      if (state.lastId !== null) h['Last-Event-ID'] = state.lastId;
      const res = await fetch('/api/v1/alerts/stream', { headers: h, signal });
      if (res.status === 401 || res.status === 403) {
        setStatus('error');
        showMessage(t(res.status === 401 ? 'need_token' : 'forbidden'));
        return;
      }
      if (!res.ok || !res.body) throw new Error(res.statusText);
      setStatus('live');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event) dispatch(event);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
    }
    setStatus('connecting');
    await new Promise((r) => setTimeout(r, RECONNECT_MS));
  }
}

function dispatch(event) {
  if (event.id !== null) state.lastId = event.id;
  if (event.type === 'ready' || event.type === 'reload') {
    loadAlerts();
    return;
  }
  if (event.type !== 'alerts') return;
  const message = JSON.parse(event.data.join('\n'));
  if (state.loading) state.buffered.push(message);
  else applyMessage(message, true);
}

function applyMessage(message, show) {
  for (const change of message.changes) {
    const a = change.alert;
    if (change.kind === 'raised' && !a.closed_at) state.open.set(a.id, a);
    else state.open.delete(a.id);
    if (show) showChange(change);
  }
  renderBoard();
}

function showChange(change) {
  const a = change.alert;
  const item = el('li', { class: `${a.severity} ${change.kind} flash`, 'data-alert-id': a.id },
    el('span', { class: `badge ${a.severity}` }, t(a.severity)), ' ',
    el('strong', {}, ruleName(a.rule)), ' · ', a.case, ' ',
    el('span', { class: 'muted' }, `${t(change.kind)} ${a.raised_at} · ${a.org}`));
  $('live').prepend(item);
  while ($('live').children.length > LIVE_ITEMS_MAX) $('live').lastChild.remove();
  $('live-empty').hidden = true;
}

async function loadAlerts() {
  state.loading = true;
  try {
    const list = await api('/api/v1/alerts?open=true');
    state.now = list.now;
    state.open = new Map(list.alerts.map((a) => [a.id, a]));
    showMessage('');
  } catch (e) {
    showMessage(`${t('failed')}: ${e.message}`);
  } finally {
    state.loading = false;
    const buffered = state.buffered.splice(0);
    for (const m of buffered) applyMessage(m, true);
    renderBoard();
    loadOrders();
    loadCharts();
  }
}

// ---- board ----------------------------------------------------------------------------------

function groupOf(org) {
  const parts = org.split('/');
  if (parts[1] === 'center') return ['departments', parts.slice(2, 3).join('/') || 'center'];
  if (parts[1] && parts[1].startsWith('town')) return ['towns', parts[1]];
  return ['towns', parts.slice(1, 2).join('/') || parts[0]];
}

function renderBoard() {
  const groups = { departments: new Map(), towns: new Map() };
  let yellow = 0;
  let red = 0;
  renderPrompts();
  for (const a of [...state.open.values()].filter(isCard)) {
    const [column, name] = groupOf(a.org);
    if (!groups[column].has(name)) groups[column].set(name, []);
    groups[column].get(name).push(a);
    if (a.severity === 'red') red += 1;
    else yellow += 1;
  }
  $('board-counts').textContent = `${t('red')} ${red} · ${t('yellow')} ${yellow}`;
  for (const column of ['departments', 'towns']) {
    const box = $('board-' + column);
    box.replaceChildren();
    const names = [...groups[column].keys()].sort();
    for (const name of names) {
      const cards = groups[column].get(name).sort((x, y) => (x.severity === y.severity ? 0 : x.severity === 'red' ? -1 : 1));
      const group = el('div', { class: 'group', 'data-group': name },
        el('div', { class: 'group-title' }, el('span', {}, name), el('span', { class: 'muted' }, `${cards.length} ${t('open_cards')}`)));
      for (const a of cards) group.append(card(a));
      box.append(group);
    }
  }
}

function renderPrompts() {
  const prompts = [...state.open.values()].filter((a) => !isCard(a))
    .sort((x, y) => x.raised_at.localeCompare(y.raised_at) || x.id.localeCompare(y.id));
  $('prompts').replaceChildren(...prompts.map((a) => el('li', { class: 'warning', 'data-alert-id': a.id, title: a.id },
    el('span', { class: 'badge warning' }, t('warning')), ' ', el('strong', {}, ruleName(a.rule)), ' · ', a.case, ' ',
    el('span', { class: 'muted' }, `${a.raised_at} · ${a.org}`))));
  $('prompts-count').textContent = String(prompts.length);
  $('prompts-empty').hidden = prompts.length > 0;
}

function card(a) {
  const row = el('div', { class: `card ${a.severity}`, 'data-alert-id': a.id, title: a.id },
    el('span', {}, `${ruleName(a.rule)} · ${a.case}`));
  if (a.escalated_to) row.append(noticeLink(a.id));
  if (a.acknowledged) {
    row.append(el('span', { class: 'muted' }, t('acknowledged')));
  } else {
    const button = el('button', { type: 'button' }, t('acknowledge'));
    button.addEventListener('click', () => acknowledge(a));
    row.append(button);
  }
  return row;
}

async function acknowledge(a) {
  try {
    await api(`/api/v1/alerts/${encodeURIComponent(a.id)}/acknowledge`, { method: 'POST' });
    a.acknowledged = true;
    renderBoard();
  } catch (e) {
    showMessage(`${t('failed')}: ${e.message}`);
  }
}

// ---- the 督办 board -----------------------------------------------------------------------------

state.orders = [];

async function loadOrders() {
  try {
    const list = await api('/api/v1/orders?open=true');
    state.orders = list.orders;
  } catch (e) {
    state.orders = [];
    if (e.status !== 403) showMessage(`${t('failed')}: ${e.message}`);
  }
  renderOrders();
}

// Overdue first, then by due date, then by card: the server's order, kept whatever it sends (an
// order whose due date the calendar cannot count yet, null, comes first among its peers, as there).
function orderSort(x, y) {
  return (y.overdue - x.overdue) || (x.due_on ?? '').localeCompare(y.due_on ?? '')
    || x.card.localeCompare(y.card);
}

function renderOrders() {
  const orders = [...(state.orders || [])].filter((o) => o.state !== 'closed').sort(orderSort);
  $('orders').replaceChildren(...orders.map((o) => {
    const marks = [];
    if (o.overdue) marks.push(el('span', { class: 'badge red' }, t('overdue')), ' ');
    if (o.escalated_to) marks.push(el('span', { class: 'badge escalated' }, t('escalated')), ' ');
    const item = el('li', { class: `order${o.overdue ? ' overdue' : ''}`, 'data-card': o.card, title: o.card },
      ...marks, el('strong', {}, ruleName(o.rule)), ' · ', o.case, ' ',
      el('span', { class: 'muted' }, `${t('due_on')} ${o.due_on ?? '—'} · ${t('round').replace('{n}', o.round)} · `
        + `${TEXT[state.lang].order_states[o.state] ?? o.state} · ${o.org}`));
    if (o.escalated_to) item.append(' ', el('span', { class: 'muted' }, `${t('escalated_to')} ${o.escalated_to}`), ' ', noticeLink(o.card));
    return item;
  }));
  $('orders-count').textContent = String(orders.length);
  $('orders-empty').hidden = orders.length > 0;
}

// The notice is read like the API, with the token: fetched, then written into a window opened
// at the click (a window opened later would be a blocked pop-up). Its style sheet is this
// origin's, which the Content Security Policy allows.
function noticeLink(id) {
  const link = el('a', { href: `/dashboard/notices/${encodeURIComponent(id)}`, class: 'notice-link' }, t('notice'));
  link.addEventListener('click', (e) => {
    e.preventDefault();
    openNotice(id);
  });
  return link;
}

async function openNotice(id) {
  const w = window.open('', '_blank');
  try {
    const res = await fetch(`/dashboard/notices/${encodeURIComponent(id)}`, { headers: headers() });
    const text = await res.text();
    if (!res.ok) throw new Error(JSON.parse(text).message || res.statusText);
    if (!w) return;
    w.document.open();
    w.document.write(text);
    w.document.close();
  } catch (e) {
    if (w) w.close();
    showMessage(`${t('failed')}: ${e.message}`);
  }
}

// ---- charts ---------------------------------------------------------------------------------

function lastMonths(now) {
  const base = now ? new Date(now.slice(0, 10) + 'T00:00:00') : new Date();
  const months = [];
  for (let i = MONTHS - 1; i >= 0; i--) {
    const d = new Date(base.getFullYear(), base.getMonth() - i, 1);
    months.push(`${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`);
  }
  return months;
}

async function loadCharts() {
  const depth = $('depth').value;
  const months = lastMonths(state.now);
  fillMonths(months);
  let reports;
  try {
    reports = await Promise.all(months.map((m) => api(`/api/v1/reports?period=${m}&by=org&depth=${depth}`)));
  } catch (e) {
    showMessage(`${t('failed')}: ${e.message}`);
    return;
  }
  months.forEach((m, i) => state.closes.set(m, reports[i].closed || null));
  renderMonth();
  const series = new Map();
  reports.forEach((report, i) => {
    for (const row of report.rows) {
      if (row.org.split('/').length !== Number(depth)) continue;
      if (!series.has(row.org)) {
        series.set(row.org, { org: row.org, weight: 0, on_time: [], satisfaction: [], correction: [], rectification: [] });
      }
      const s = series.get(row.org);
      s.weight += row.concluded + row.rated;
      s.on_time[i] = row.on_time_rate;
      s.satisfaction[i] = row.satisfaction_rate;
      s.correction[i] = row.correction_rate;
      s.rectification[i] = row.rectification_rate;
    }
  });
  const top = [...series.values()].sort((a, b) => b.weight - a.weight || a.org.localeCompare(b.org)).slice(0, CHART_ORGS_MAX);
  drawChart($('chart-on-time'), months, top, 'on_time');
  drawChart($('chart-satisfaction'), months, top, 'satisfaction');
  drawChart($('chart-correction'), months, top, 'correction');
  drawChart($('chart-rectification'), months, top, 'rectification');
}

// ---- closed months ----------------------------------------------------------------------------

function fillMonths(months) {
  const select = $('month');
  const chosen = select.value || months[months.length - 1];
  select.replaceChildren(...months.map((m) => el('option', { value: m }, m)));
  select.value = months.includes(chosen) ? chosen : months[months.length - 1];
}

function renderMonth() {
  const node = $('month-state');
  const month = $('month').value;
  if (!month || !state.closes.has(month)) {
    node.dataset.state = 'unknown';
    node.textContent = '';
    node.title = '';
    return;
  }
  const closed = state.closes.get(month);
  node.dataset.state = closed ? 'closed' : 'open';
  node.textContent = t(closed ? 'period_closed' : 'period_open');
  node.title = closed ? `${closed.closed_at} · #${closed.position} · ${closed.digest}` : '';
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function drawChart(box, months, series, key) {
  box.replaceChildren();
  if (!series.length) {
    box.append(el('p', { class: 'empty' }, t('no_data')));
    return;
  }
  const W = 560, H = 220, L = 36, R = 10, T = 10, B = 30;
  const x = (i) => L + (i * (W - L - R)) / (months.length - 1);
  const y = (v) => T + (1 - v) * (H - T - B);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
  for (const v of [0, 0.5, 0.95, 1]) {
    chart.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'axis' }));
    const label = svg('text', { x: 2, y: y(v) + 3 });
    label.textContent = `${Math.round(v * 100)}%`;
    chart.append(label);
  }
  months.forEach((m, i) => {
    if (i % 2) return;
    const label = svg('text', { x: x(i) - 14, y: H - 10 });
    label.textContent = m;
    chart.append(label);
  });
  series.forEach((s, n) => {
    let points = [];
    const flush = () => {
      if (points.length > 1) chart.append(svg('polyline', { points: points.join(' '), fill: 'none', stroke: COLORS[n], 'stroke-width': 2 }));
      if (points.length === 1) {
        const [cx, cy] = points[0].split(',');
        chart.append(svg('circle', { cx, cy, r: 3, fill: COLORS[n] }));
      }
      points = [];
    };
    months.forEach((_, i) => {
      const v = s[key][i];
      if (v === null || v === undefined) flush();
      else points.push(`${x(i).toFixed(1)},${y(Number(v)).toFixed(1)}`);
    });
    flush();
  });
  const legend = el('div', { class: 'legend' });
  series.forEach((s, n) => {
    const item = el('span', {}, s.org);
    item.style.setProperty('--c', COLORS[n]);
    legend.append(item);
  });
  box.append(chart, legend);
}

// ---- case lookup ----------------------------------------------------------------------------

async function lookup(id) {
  const view = $('case-view');
  const timeline = $('timeline');
  view.replaceChildren();
  timeline.replaceChildren();
  try {
    const [c, history] = await Promise.all([
      api(`/api/v1/cases/${encodeURIComponent(id)}`),
      api(`/api/v1/cases/${encodeURIComponent(id)}/history`),
    ]);
    const facts = [
      ['item', c.item], ['org', c.org], ['state', TEXT[state.lang].states[c.status] ?? c.status],
      ['promised_due_on', c.promised_due_on ?? '—'], ['statutory_due_on', c.statutory_due_on ?? '—'],
      ['used_days', c.used_days ?? '—'], ['remaining_days', c.remaining_days ?? '—'],
      ['on_time', c.on_time === null ? '—' : String(c.on_time)],
    ];
    for (const [k, v] of facts) view.append(el('dt', {}, t(k)), el('dd', {}, v));
    for (const e of history.events) {
      timeline.append(el('li', { 'data-position': e.position },
        el('strong', {}, e.type), ' ', el('span', { class: 'muted' }, `${e.occurred_at} · ${e.actor} · ${e.org}`)));
    }
  } catch (e) {
    showMessage(e.status === 404 ? t('not_found') : e.status === 403 ? t('forbidden') : `${t('failed')}: ${e.message}`);
  }
}

// The cases whose promised due date falls within the next `days` working days (0: today), by
// due date, each opening the case lookup.
async function dueCases(days) {
  const list = $('due');
  list.replaceChildren();
  $('due-count').textContent = '';
  try {
    const page = await api(`/api/v1/cases?due_within=${days}&limit=500`);
    for (const c of page.cases) {
      const link = el('a', { href: '#case-section' }, c.stream);
      link.addEventListener('click', () => { $('case-id').value = c.stream; lookup(c.stream); });
      list.append(el('li', { 'data-case': c.stream }, link, ' ',
        el('span', {}, `${c.promised_due_on} · ${TEXT[state.lang].states[c.status] ?? c.status}`), ' ',
        el('span', { class: 'muted' }, `${c.org} · ${c.item} · ${t('remaining_days')} ${c.remaining_days ?? '—'}`)));
    }
    $('due-count').textContent = `${page.cases.length}${page.next_cursor ? '+' : ''}`;
    $('due-empty').textContent = page.cases.length ? '' : t('due_none');
    $('due-empty').hidden = page.cases.length > 0;
  } catch (e) {
    showMessage(e.status === 403 ? t('forbidden') : `${t('failed')}: ${e.message}`);
  }
}

// ---- start ----------------------------------------------------------------------------------

async function connect() {
  if (state.stream) state.stream.abort();
  state.stream = null;
  if (state.auth && !state.token) {
    setStatus('idle');
    showMessage(t('need_token'));
    return;
  }
  showMessage('');
  state.lastId = null;
  const controller = new AbortController();
  state.stream = controller;
  follow(controller.signal);
}

async function start() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    state.token = fragment.get('token');
    sessionStorage.setItem('jiancha.token', state.token);
    history.replaceState(null, '', location.pathname + location.search);
  }
  if (fragment.get('lang') === 'en' || fragment.get('lang') === 'zh') state.lang = fragment.get('lang');
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('jiancha.lang', state.lang);
    applyLanguage();
  });
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = $('token').value.trim();
    sessionStorage.setItem('jiancha.token', state.token);
    $('token').value = '';
    connect();
  });
  $('case-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('case-id').value.trim();
    if (id) lookup(id);
  });
  for (const id of ['due-today', 'due-week']) {
    $(id).addEventListener('click', (e) => dueCases(Number(e.currentTarget.dataset.days)));
  }
  $('depth').addEventListener('change', loadCharts);
  $('month').addEventListener('change', renderMonth);
  applyLanguage();
  try {
    const health = await api('/healthz');
    state.auth = health.auth !== false;
  } catch (e) {
    showMessage(`${t('failed')}: ${e.message}`);
  }
  connect();
}

start();

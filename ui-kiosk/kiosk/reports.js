// The Reports screen (seed §11): consultations per day and per week, average duration,
// no-show rate, join success, connection quality, ratings and recordings for a period,
// as charts with their numbers in a table beside each, and the period as CSV. Built
// into a container given by its page: a card in the kiosk's Settings, and the whole of
// /admin/reports (ui-kiosk/admin/). Reads GET /api/reports with an admin token.
import { busy } from '/kiosk/busy.js';
import { drawChart, legend } from '/kiosk/report_charts.js';

const PERIODS = [[28, 'Last 4 weeks'], [84, 'Last 12 weeks'], [182, 'Last 6 months'], [364, 'Last 52 weeks']];
const pct = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const num = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const dash = '—';
const rate = (v) => (v === null || v === undefined ? dash : pct.format(v));
const minutes = (s) => (s === null || s === undefined ? dash : `${num.format(s / 60)} min`);
const plain = (v) => (v === null || v === undefined ? dash : num.format(v));

function ymd(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

// A table of the numbers a chart draws: one row per category.
function table(caption, head, rows) {
  const t = el('table', { class: 'report-table' }, el('caption', { text: caption }));
  const tr = el('tr');
  head.forEach((h, i) => tr.append(el('th', { scope: 'col', text: h, class: i ? 'n' : '' })));
  const body = el('tbody');
  for (const row of rows) {
    const r = el('tr');
    row.forEach((v, i) => r.append(i ? el('td', { class: 'n', text: v }) : el('th', { scope: 'row', text: v })));
    body.append(r);
  }
  t.append(el('thead', {}, tr), body);
  return t;
}

let seq = 0;

export class Reports {
  // api: the page's Api; token(): the admin token now; onSignedOut(): a 401 from the API.
  constructor(root, { api, token, onSignedOut }) {
    this.root = root;
    this.api = api;
    this.token = token;
    this.onSignedOut = onSignedOut;
    this.plots = [];
    const id = `reports-${++seq}`;
    this.period = el('select', { id: `${id}-period` });
    for (const [days, label] of PERIODS) this.period.append(el('option', { value: String(days), text: label }));
    this.from = el('input', { id: `${id}-from`, type: 'date', required: '' });
    this.to = el('input', { id: `${id}-to`, type: 'date', required: '' });
    this.show = el('button', { type: 'button', class: 'primary', text: 'Show' });
    this.csv = el('button', { type: 'button', text: 'Download CSV', 'data-report': 'csv' });
    this.state = el('p', { class: 'muted', role: 'status' });
    this.error = el('p', { class: 'error', role: 'alert', hidden: '' });
    this.body = el('div', { class: 'report-body' });
    root.replaceChildren(
      el('div', { class: 'report-controls' },
        el('label', { for: this.period.id, text: 'Period' }), this.period,
        el('label', { for: this.from.id, text: 'From' }), this.from,
        el('label', { for: this.to.id, text: 'Until (not included)' }), this.to,
        this.show, this.csv),
      this.state, this.error, this.body);
    this.period.addEventListener('change', () => { this.preset(Number(this.period.value)); this.load(); });
    this.show.addEventListener('click', () => this.load());
    this.csv.addEventListener('click', () => busy(this.csv, () => this.downloadCsv()));
    this.preset(PERIODS[0][0]);
    this.resized = () => this.plots.forEach((p) => p.fitTo());
    window.addEventListener('resize', this.resized);
  }

  // The last `days` days up to and including today.
  preset(days) {
    const to = new Date();
    to.setDate(to.getDate() + 1);
    const from = new Date(to);
    from.setDate(from.getDate() - days);
    this.from.value = ymd(from);
    this.to.value = ymd(to);
  }

  query() { return `from=${encodeURIComponent(this.from.value)}&to=${encodeURIComponent(this.to.value)}`; }

  problem(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  async load() {
    this.problem('');
    this.state.textContent = 'Counting…';
    try {
      const r = await busy(this.show, () => this.api.get(`/api/reports?${this.query()}`, this.token()));
      this.render(r);
      this.state.textContent = `${r.from} until ${r.to}: ${r.days.length} days.`;
    } catch (e) {
      this.state.textContent = '';
      this.problem(e.message || 'The report could not be read.');
      if (e.status === 401) this.onSignedOut?.();
    }
  }

  // Nothing of the last report stays on screen (signed out, Settings closed).
  clear() {
    this.plots.forEach((p) => p.destroy());
    this.plots = [];
    this.body.replaceChildren();
    this.state.textContent = '';
    this.problem('');
  }

  async downloadCsv() {
    this.problem('');
    let res;
    try {
      res = await fetch(`/api/reports.csv?${this.query()}`, { headers: { Authorization: `Bearer ${this.token()}` }, cache: 'no-store' });
    } catch {
      this.problem('The appliance is not answering.');
      return;
    }
    if (!res.ok) {
      let msg = `The appliance refused the CSV (${res.status}).`;
      try { msg = (await res.json()).error.message || msg; } catch { /* not JSON */ }
      this.problem(msg);
      if (res.status === 401) this.onSignedOut?.();
      return;
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '')?.[1] || 'consultations.csv';
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    this.state.textContent = `Saved ${name}.`;
  }

  render(r) {
    this.clear();
    const t = r.totals;
    const weeks = r.weeks.map((w) => w.week);
    const facts = el('dl', { class: 'facts report-totals' });
    const fact = (k, v) => facts.append(el('dt', { text: k }), el('dd', { text: v }));
    fact('Consultations held', `${t.held} of ${t.consultations} (${t.completed} completed, ${t.cancelled} cancelled)`);
    fact('Average duration', minutes(t.average_duration_seconds));
    fact('No-show rate', `${rate(t.no_show_rate)} (${t.no_shows} of ${t.due_appointments} due video appointments)`);
    fact('Join success', `${rate(t.join_success_rate)} (${t.joined} of ${t.held} calls had both sides connected)`);
    fact('Connection quality', t.quality_reports ? `${t.quality_good} good, ${t.quality_fair} fair, ${t.quality_poor} poor; ` +
      `round trip ${plain(t.average_rtt_ms)} ms, loss ${rate(t.average_loss)}` : 'no reports');
    fact('Patient ratings', t.ratings ? `${plain(t.average_rating)} of 5 from ${t.ratings} ratings` : 'none');
    fact('Recordings', `${t.recordings} (${minutes(t.recorded_seconds)} in all; ${t.recording_declined} declined)`);
    this.body.append(facts);

    this.figure('Consultations per day', r.days.map((d) => d.date.slice(5)), [
      { label: 'Held', values: r.days.map((d) => d.held), bars: true },
    ], { format: (v) => num.format(v), whole: true, summary: `${t.held} consultations held over ${r.days.length} days`,
         details: 'Numbers per day',
         table: table('Consultations per day', ['Day', 'Video appointments', 'Held', 'Completed', 'No-shows'],
                      r.days.map((d) => [d.date, d.appointments, d.held, d.completed, d.no_shows].map(String))) });
    this.figure('Consultations per week', weeks, [
      { label: 'Held', values: r.weeks.map((w) => w.held) },
      { label: 'Completed', values: r.weeks.map((w) => w.completed) },
      { label: 'No-shows', values: r.weeks.map((w) => w.no_shows) },
    ], { format: (v) => num.format(v), whole: true, summary: `weekly consultations held, completed and no-shows over ${weeks.length} weeks`,
         table: table('Consultations per week', ['Week', 'Held', 'Completed', 'No-shows', 'Average duration'],
                      r.weeks.map((w) => [w.week, String(w.held), String(w.completed), String(w.no_shows), minutes(w.average_duration_seconds)])) });
    this.figure('Average duration (minutes)', weeks, [
      { label: 'Average duration', values: r.weeks.map((w) => (w.average_duration_seconds === null ? null : w.average_duration_seconds / 60)) },
    ], { format: (v) => num.format(v), summary: `average length of completed consultations per week; over the period ${minutes(t.average_duration_seconds)}` });
    this.figure('No-show rate and join success', weeks, [
      { label: 'No-show rate', values: r.weeks.map((w) => w.no_show_rate) },
      { label: 'Join success', values: r.weeks.map((w) => w.join_success_rate) },
    ], { format: (v) => pct.format(v), summary: `no-show rate ${rate(t.no_show_rate)} and join success ${rate(t.join_success_rate)} over the period`,
         table: table('No-show rate and join success per week', ['Week', 'Due', 'No-shows', 'No-show rate', 'Held', 'Joined', 'Join success'],
                      r.weeks.map((w) => [w.week, String(w.due_appointments), String(w.no_shows), rate(w.no_show_rate), String(w.held), String(w.joined), rate(w.join_success_rate)])) });
    this.figure('Connection quality (patient\'s link)', weeks, [
      { label: 'Good', values: r.weeks.map((w) => w.quality_good) },
      { label: 'Fair', values: r.weeks.map((w) => w.quality_fair) },
      { label: 'Poor', values: r.weeks.map((w) => w.quality_poor) },
    ], { format: (v) => num.format(v), whole: true, summary: `calls by the patient's connection: ${t.quality_good} good, ${t.quality_fair} fair, ${t.quality_poor} poor`,
         table: table('Connection quality per week', ['Week', 'Reports', 'Good', 'Fair', 'Poor', 'Round trip (ms)', 'Loss'],
                      r.weeks.map((w) => [w.week, String(w.quality_reports), String(w.quality_good), String(w.quality_fair), String(w.quality_poor), plain(w.average_rtt_ms), rate(w.average_loss)])) });
    const scores = [1, 2, 3, 4, 5];
    this.figure('Patient ratings', scores.map((s) => `${s}★`), [
      { label: 'Ratings', values: scores.map((s) => t[`rating_${s}`]), bars: true },
    ], { format: (v) => num.format(v), whole: true, summary: t.ratings ? `${t.ratings} ratings, ${plain(t.average_rating)} of 5 on average` : 'no ratings in this period',
         table: table('Patient ratings', ['Stars', 'Ratings'], scores.map((s) => [`${s} of 5`, String(t[`rating_${s}`])])) });
    this.figure('Recordings', weeks, [
      { label: 'Recorded', values: r.weeks.map((w) => w.recordings) },
      { label: 'Declined by the patient', values: r.weeks.map((w) => w.recording_declined) },
    ], { format: (v) => num.format(v), whole: true, summary: `${t.recordings} consultations recorded, ${t.recording_declined} declined`,
         table: table('Recordings per week', ['Week', 'Held', 'Recorded', 'Minutes recorded', 'Declined'],
                      r.weeks.map((w) => [w.week, String(w.held), String(w.recordings), num.format(w.recorded_seconds / 60), String(w.recording_declined)])) });
  }

  // A chart with its title, legend and text alternative, and its table beside it.
  figure(title, labels, series, { format, whole, summary, table: numbers, details }) {
    const chart = el('div', { class: 'report-chart', role: 'img', 'aria-label': `${title}: ${summary}. The numbers are in the table.` });
    const fig = el('figure', { class: 'report-figure' }, el('figcaption', { text: title }), legend(series), chart);
    const side = numbers ? (details ? el('details', { class: 'report-details' }, el('summary', { text: details }), numbers) : numbers)
      : el('p', { class: 'muted', text: summary });
    // A table may scroll sideways on a narrow screen: its box then takes the focus to scroll by keys.
    const box = numbers ? el('div', { class: 'report-numbers', tabindex: '0', role: 'region', 'aria-label': `${title}: the numbers` }, side)
      : el('div', { class: 'report-numbers' }, side);
    this.body.append(el('section', { class: 'report-row' }, fig, box));
    this.plots.push(drawChart(chart, { labels, series, format, whole }));
  }
}

// The day view: one row per video appointment with a plain status chip, the next
// one highlighted, and what the doctor can do with it.
const LABELS = { scheduled: 'Scheduled', invited: 'Invited', waiting: 'Waiting', 'in-call': 'In call', done: 'Done',
                 'no-show': 'No-show', cancelled: 'Cancelled' };

export const clockTime = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

// scheduled / invited / waiting / in-call / done / no-show / cancelled
export function chipStatus(appt, waitingSessions) {
  if (appt.status === 'no-show') return 'no-show';
  const s = appt.session;
  if (!s) return appt.status === 'cancelled' ? 'cancelled' : 'scheduled';
  if (s.status === 'in-progress') return 'in-call';
  if (s.status === 'completed') return 'done';
  if (s.status === 'cancelled') return appt.status === 'no-show' ? 'no-show' : 'cancelled';
  if (s.status === 'waiting' || waitingSessions.has(s.id)) return 'waiting';
  return 'invited';
}

const OPEN = new Set(['scheduled', 'invited', 'waiting', 'in-call']);

// What the day view says of a session's recording.
const RECORDING_LABELS = {
  recording: 'Recording now', paused: 'Recorded (call still open)', composing: 'Recording being prepared',
  ready: 'Recording ready', failed: 'Recording failed', deleted: 'Recording deleted',
};

function button(label, handler, cls = '') {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (cls) b.className = cls;
  b.addEventListener('click', handler);
  return b;
}

export function renderDay(list, { appointments, invites, waitingSessions, isToday, now, actions }) {
  list.replaceChildren();
  let nextMarked = false;
  for (const a of appointments) {
    const status = chipStatus(a, waitingSessions);
    const li = document.createElement('li');
    li.className = 'appt';
    li.dataset.appointment = a.id;
    li.dataset.status = status;
    const ends = Date.parse(a.starts_at) + a.duration_minutes * 60000;
    if (isToday && !nextMarked && OPEN.has(status) && ends > now) {
      nextMarked = true;
      li.classList.add('next');
    }
    const time = document.createElement('span');
    time.className = 'time';
    time.textContent = clockTime(a.starts_at);
    const who = document.createElement('div');
    const name = document.createElement('div');
    name.className = 'name';
    name.textContent = a.patient.name;
    const sub = document.createElement('div');
    sub.className = 'sub';
    const chip = document.createElement('span');
    chip.className = 'status';
    chip.dataset.status = status;
    chip.textContent = LABELS[status];
    sub.append(chip);
    if (li.classList.contains('next')) {
      const next = document.createElement('span');
      next.className = 'next-label';
      next.textContent = 'Next';
      sub.append(next);
    }
    const rec = a.session?.recording;
    if (rec) {
      const r = document.createElement('span');
      r.className = 'notice-line';
      r.textContent = RECORDING_LABELS[rec] || `Recording: ${rec}`;
      sub.append(r);
    }
    const invite = a.session && invites.get(a.session.id);
    if (invite?.notice) {
      const n = document.createElement('span');
      n.className = 'notice-line';
      n.textContent = invite.notice;
      sub.append(n);
    }
    who.append(name, sub);
    const act = document.createElement('div');
    act.className = 'actions';
    if (status === 'scheduled' && a.status !== 'cancelled') act.append(button('Start', () => actions.start(a), 'primary'));
    if (status === 'invited' || status === 'waiting') {
      act.append(button(status === 'waiting' ? 'Open waiting room' : 'Open', () => actions.open(a), 'primary'));
      act.append(button('Resend invite', () => actions.invite(a)));
      act.append(button('Cancel', () => actions.cancel(a)));
    }
    if (status === 'in-call') act.append(button('Return to call', () => actions.open(a), 'primary'));
    if (status === 'done') act.append(button(a.session.notes ? 'Notes ✓' : 'Write notes', () => actions.notes(a)));
    if (rec === 'ready') act.append(button('Review recording', () => actions.review(a)));
    li.append(time, who, act);
    list.append(li);
  }
}

// "Review recording" on a finished consultation: the composed file in a player the
// doctor can seek (the appliance answers range requests), from a link that lasts a
// few minutes. Every opening is written to the recording's access log by the appliance.
const $ = (id) => document.getElementById(id);

function closeReview() {
  const v = $('review-video');
  v.pause();
  v.removeAttribute('src');
  v.load();
  if ($('review').open) $('review').close();
}

export async function reviewRecording(app, appointment) {
  const id = appointment.session?.id;
  if (!id) return;
  let r;
  try {
    r = await app.api.get(`/api/video-consultations/sessions/${id}/recording`);
  } catch (e) {
    app.toast(e.message || 'The recording could not be opened.');
    return;
  }
  if (!r.media_url) {
    app.toast(r.state === 'composing' ? 'The recording is still being prepared: try again in a minute.'
      : `This recording cannot be played (${r.state}${r.failure ? `: ${r.failure}` : ''}).`);
    return;
  }
  const minutes = Math.round((r.duration_ms || 0) / 60000);
  $('review-title').textContent = `Recording: ${appointment.patient?.name || 'consultation'}`;
  $('review-info').textContent = `${minutes < 1 ? 'under a minute' : `${minutes} min`} · ` +
    `${(r.size_bytes / 1e6).toFixed(1)} MB · recorded ${new Date(r.started_at).toLocaleString()}`;
  $('review-video').src = r.media_url;
  $('review-close').onclick = closeReview;
  $('review').onclose = closeReview;
  $('review').showModal();
}

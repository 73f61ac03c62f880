// One chat message as a list item: who and when on the first line, the text (as
// text, never HTML) below. `mine` marks the reader's own messages.
export function appendChat(log, m, mine, sender) {
  const li = document.createElement('li');
  li.className = mine ? 'mine' : '';
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = `${mine ? 'You' : sender} · ${new Date(m.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  const text = document.createElement('span');
  text.textContent = m.text;
  li.append(who, text);
  log.append(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

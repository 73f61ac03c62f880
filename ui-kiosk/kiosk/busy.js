// A button shows it is working, and takes no second tap, until `work` settles.
export async function busy(button, work) {
  button.setAttribute('aria-busy', 'true');
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.removeAttribute('aria-busy');
    button.disabled = false;
  }
}

// Live preview for the document editor; without it, the "Preview" button renders on the server.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-editor]").forEach((editor) => {
    const source = editor.querySelector("textarea[data-preview-url]");
    const target = editor.querySelector("[data-preview-target]");
    const status = editor.querySelector("[data-preview-status]");
    const form = source && source.form;
    const token = form && form.querySelector("input[name=csrf_token]");
    if (!source || !target || !token) return;
    let timer = null;
    let sent = 0;

    async function refresh() {
      const ticket = ++sent;
      const data = new FormData();
      data.append("body", source.value);
      if (source.dataset.documentId) data.append("document_id", source.dataset.documentId);
      try {
        const response = await fetch(source.dataset.previewUrl, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { "X-CSRFToken": token.value, Accept: "application/json" },
        });
        const answer = await response.json();
        if (ticket !== sent) return; // a newer preview is on its way
        if (!response.ok) {
          status.textContent = answer.message || answer.error || "Preview unavailable";
          return;
        }
        // The server returns HTML that already passed the sanitizer's allow-list.
        target.innerHTML = answer.html || "<p class=\"text-body-secondary\">Nothing to show yet.</p>";
        status.textContent = "Live preview";
      } catch (error) {
        if (ticket === sent) status.textContent = "Preview unavailable: use the Preview button";
      }
    }

    source.addEventListener("input", () => {
      clearTimeout(timer);
      status.textContent = "Updating…";
      timer = setTimeout(refresh, 400);
    });
    if (source.value.trim()) refresh();
  });
});

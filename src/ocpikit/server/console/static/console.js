// The ocpikit console's only script (no build step, nothing fetched from elsewhere):
// - the Traffic page's live tail: polls /console/traffic/tail for exchanges newer than the
//   newest shown and puts them on top;
// - the Commands page: a chosen command fills the body with its template;
// - "Back" links on error pages go back in history.
"use strict";

function startTail() {
  const rows = document.getElementById("traffic-rows");
  const live = document.getElementById("live");
  if (!rows || !live) return;
  let busy = false;
  async function poll() {
    if (busy || !live.checked) return;
    busy = true;
    try {
      const url = rows.dataset.tail + "&after=" + encodeURIComponent(rows.dataset.after || "0");
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) {
        const html = (await response.text()).trim();
        const newest = response.headers.get("X-Newest-Exchange");
        if (html) {
          rows.insertAdjacentHTML("afterbegin", html);
          const empty = document.getElementById("no-traffic");
          if (empty) empty.remove();
        }
        if (newest) rows.dataset.after = newest;
      }
    } catch (e) {
      // the server may be restarting: try again at the next tick
    } finally {
      busy = false;
    }
  }
  setInterval(poll, 1000);
}

function commandTemplates() {
  const select = document.getElementById("command-name");
  const body = document.getElementById("command-body");
  const data = document.getElementById("command-templates");
  if (!select || !body || !data) return;
  const templates = JSON.parse(data.textContent);
  select.addEventListener("change", () => {
    if (templates[select.value]) body.value = templates[select.value];
  });
}

function backLinks() {
  for (const link of document.querySelectorAll("a[data-back]")) {
    link.addEventListener("click", (event) => {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  startTail();
  commandTemplates();
  backLinks();
});

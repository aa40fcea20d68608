// The home page: filter the repository list as you type, and follow running indexing jobs.
"use strict";

const POLL_MS = 2000;

function setUpFilter() {
  const input = document.querySelector("[data-filter]");
  if (!input) return;
  const items = [...document.querySelectorAll(input.dataset.filter)];
  const count = document.querySelector("[data-filter-count]");
  const empty = document.querySelector("[data-filter-empty]");
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const item of items) {
      const text = item.dataset.filterText.toLowerCase();
      const match = words.every((word) => text.includes(word));
      item.hidden = !match;
      shown += match;
    }
    empty.hidden = shown > 0;
    count.textContent = `${shown} of ${items.length} repositories shown`;
  });
}

function describe(job) {
  const percent = Math.round(job.progress * 100);
  switch (job.status) {
    case "queued": return "Queued for indexing";
    case "running": return `Indexing${job.stage ? ": " + job.stage : ""} (${percent}%)`;
    case "failed": return `Indexing failed${job.message ? ": " + job.message : ""}`;
    default: return "Indexed — reload the page to search it";
  }
}

function progressBar(box) {
  let bar = box.querySelector("progress");
  if (!bar) {
    bar = document.createElement("progress");
    bar.max = 1;
    bar.setAttribute("aria-label", box.dataset.progressLabel);
    box.append(bar);
  }
  return bar;
}

function follow(box, api) {
  const text = box.querySelector(".job-text");
  const timer = setInterval(async () => {
    let job;
    try {
      const response = await fetch(api + box.dataset.jobId, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      job = await response.json();
    } catch {
      return; // the server may be restarting; try again on the next tick
    }
    box.dataset.jobStatus = job.status;
    box.className = `job job-${job.status}`;
    text.textContent = describe(job);
    if (job.status === "running") {
      progressBar(box).value = job.progress;
    } else {
      box.querySelector("progress")?.remove();
    }
    if (job.status !== "queued" && job.status !== "running") clearInterval(timer);
  }, POLL_MS);
}

function setUpJobs() {
  const list = document.querySelector("[data-jobs-api]");
  if (!list) return;
  for (const box of list.querySelectorAll('[data-job-status="queued"], [data-job-status="running"]')) {
    follow(box, list.dataset.jobsApi);
  }
}

setUpFilter();
setUpJobs();

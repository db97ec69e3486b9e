// The inspector's script: reads the emulator's own admin JSON (same origin, nothing else) and renders it.
// The journal follows server-sent events (/__mock__/journal/events) and polls only where they are
// refused or end, and every 2 s to catch up (requests answered by other servers sharing the state).
// Controls go through the admin API like any other caller: JSON bodies, the admin token header if set.
// Drifts: a vendor's catalogue (GET /__mock__/drifts?vendor=) is read once, when the form first shows that
// vendor; the active drifts come with the state.
"use strict";
(function () {
  const POLL_MS = 250; // the journal, while the page is visible and cannot follow its events
  const RETRY_EVENTS_MS = 5000; // after the event stream failed or ended: poll this long, then try again
  const STATE_MS = 2000; // faults and tenants
  const MAX_ROWS = 500; // rows kept in the journal table
  const POLL_LIMIT = 100; // newest entries fetched per poll (under load, older ones are skipped)
  const TOKEN_HEADER = "X-Mock-Admin-Token";
  const tokenRequired = document.body.dataset.tokenRequired === "true";
  const tokenInput = document.getElementById("token");
  const statusLine = document.getElementById("status");
  const rows = document.getElementById("journal-rows");
  const filter = document.getElementById("journal-filter");
  const detail = document.getElementById("detail");
  const driftForm = document.getElementById("drift-form");
  let catalogue = Object.create(null); // vendor id -> the drifts that apply to it, read once per token
  let latest = 0;
  let stream = null; // the AbortController of the open event stream
  let eventsRetryAt = 0;
  let generation = 0; // bumped when the filter changes, so a late answer for the old filter is dropped

  if (tokenInput) {
    tokenInput.value = sessionStorage.getItem("vendor-emulator-token") || "";
    tokenInput.addEventListener("change", function () {
      sessionStorage.setItem("vendor-emulator-token", tokenInput.value);
      catalogue = Object.create(null);
      restart();
    });
  }

  function headers(json) {
    const out = { Accept: "application/json" };
    if (json) out["Content-Type"] = "application/json";
    if (tokenRequired && tokenInput && tokenInput.value) out[TOKEN_HEADER] = tokenInput.value;
    return out;
  }

  async function call(method, url, body) {
    const response = await fetch(url, {
      method: method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
    if (!response.ok) {
      const message = (data && (data.message || data.error)) || response.statusText;
      throw new Error(response.status + ": " + message);
    }
    return data;
  }

  function say(message) { statusLine.textContent = message; }

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function query(entry) {
    return entry.query.map(function (pair) { return pair[0] + "=" + pair[1]; }).join("&");
  }

  function ms(value) { return value === null || value === undefined ? "—" : value.toFixed(1); }

  function statusClass(status) { return "s" + String(status)[0]; }

  function row(entry) {
    const q = query(entry);
    const open = el("button", { type: "button", class: "open", "data-sequence": String(entry.sequence),
      "aria-label": "Open request " + entry.sequence, text: String(entry.sequence) });
    const drifts = entry.drifts || [];
    const marks = drifts.map(function (id) { return el("span", { class: "badge drift", text: id }); });
    const tr = el("tr", { "data-sequence": String(entry.sequence), "data-vendor": entry.vendor,
      "data-drifts": drifts.join(" "), class: drifts.length ? "drifted" : "" }, [
      el("td", {}, [open]),
      el("td", { text: new Date(entry.at * 1000).toLocaleTimeString() }),
      el("td", { text: entry.vendor }),
      el("td", { class: "request" }, [el("code", { text: entry.method + " " + entry.path + (q ? "?" + q : "") })]),
      el("td", { class: "status " + statusClass(entry.status), text: String(entry.status) }),
      el("td", { class: "num", text: ms(entry.latency_ms) }),
      el("td", { text: entry.tenant || "—" }),
      el("td", { class: "fault", text: entry.fault || "" }),
      el("td", { class: "drifts" }, marks),
    ]);
    return tr;
  }

  function filterQuery() {
    const params = new URLSearchParams();
    for (const name of ["vendor", "tenant", "status"]) {
      const value = filter.elements[name].value;
      if (value) params.set(name, value);
    }
    if (filter.elements.drifted.checked) params.set("drifted", "true");
    return params;
  }

  function addEntries(entries) { // newest first; an entry already shown (by the stream or a poll) is skipped
    const fresh = entries.filter(function (entry) {
      return !rows.querySelector('tr[data-sequence="' + entry.sequence + '"]');
    });
    if (fresh.length) {
      const empty = rows.querySelector("tr.empty");
      if (empty) empty.remove();
      const fragment = document.createDocumentFragment();
      for (const entry of fresh) fragment.append(row(entry));
      rows.prepend(fragment);
      while (rows.rows.length > MAX_ROWS) rows.deleteRow(rows.rows.length - 1);
    }
    for (const entry of entries) latest = Math.max(latest, entry.sequence);
    document.getElementById("journal-count").textContent = "(" + rows.querySelectorAll("tr[data-sequence]").length + " shown)";
  }

  async function pollJournal() {
    const mine = generation;
    const params = filterQuery();
    params.set("since", String(latest));
    params.set("limit", String(POLL_LIMIT));
    const data = await call("GET", "/__mock__/journal?" + params.toString());
    if (mine !== generation) return;
    addEntries(data.entries);
    latest = Math.max(latest, data.latest);
  }

  function journalMode(name) { document.body.dataset.journal = name; }

  function handleEvent(frame) {
    let name = "message";
    let data = "";
    for (const line of frame.split("\n")) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trim();
    }
    if (name === "entry") addEntries([JSON.parse(data)]);
    else if (name === "changed") pollJournal().catch(function () {}); // numbered later (shared state)
  }

  // Follow the journal's event stream until it ends (the server dropped a slow reader, or went away).
  async function follow(mine) {
    const controller = new AbortController();
    stream = controller;
    const sent = Object.assign(headers(false), { Accept: "text/event-stream" });
    const response = await fetch("/__mock__/journal/events?" + filterQuery().toString(), {
      headers: sent, credentials: "same-origin", cache: "no-store", signal: controller.signal,
    });
    if (!response.ok || !response.body) { controller.abort(); throw new Error(String(response.status)); }
    if (mine !== generation) { controller.abort(); return; }
    journalMode("events");
    await pollJournal(); // what came before the stream opened
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done || mine !== generation) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        handleEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  function stopFollowing() {
    if (stream) stream.abort();
    stream = null;
  }

  function table(pairs, caption) {
    return el("table", { class: "pairs" }, [
      el("caption", { text: caption }),
      el("tbody", {}, pairs.map(function (pair) {
        return el("tr", {}, [el("th", { scope: "row", text: pair[0] }), el("td", {}, [el("code", { text: pair[1] })])]);
      })),
    ]);
  }

  async function openEntry(sequence) {
    const entry = await call("GET", "/__mock__/journal/" + encodeURIComponent(sequence));
    for (const tr of rows.querySelectorAll("tr.selected")) tr.classList.remove("selected");
    const tr = rows.querySelector('tr[data-sequence="' + sequence + '"]');
    if (tr) tr.classList.add("selected");
    const q = query(entry);
    const body = !entry.response.captured ? "(not kept: no inspector was open when this request came)"
      : entry.response.dropped ? "(no longer kept: the journal keeps the newest bodies only)"
      : entry.response.body !== null ? JSON.stringify(entry.response.body, null, 2) : (entry.response.text || "");
    detail.replaceChildren(
      el("h3", { id: "detail-h", text: "Request " + entry.sequence }),
      el("p", {}, [el("code", { class: "request-line", text: entry.method + " /" + entry.vendor + entry.path + (q ? "?" + q : "") })]),
      el("p", { text: "Status " + entry.status + " · " + ms(entry.latency_ms) + " ms · tenant " + (entry.tenant || "—") + (entry.fault ? " · fault " + entry.fault : "") + (entry.drifts && entry.drifts.length ? " · drifted by " + entry.drifts.join(", ") : "") }),
      table(entry.headers, "Request headers (credentials redacted)"),
      entry.query.length ? table(entry.query, "Query") : el("p", { class: "muted", text: "No query parameters." }),
      ...(entry.request ? [
        el("h4", { text: "Request body (" + entry.request.bytes + " bytes, secret-looking fields redacted)" }),
        el("pre", { class: "body", tabindex: "0" }, [el("code", { id: "request-body", text: entry.request.body !== null ? JSON.stringify(entry.request.body, null, 2) : (entry.request.text || "") })]),
      ] : []),
      el("h4", { text: "Response body (" + entry.response.bytes + " bytes, " + (entry.response.content_type || "") + ")" }),
      el("pre", { class: "body", tabindex: "0" }, [el("code", { id: "response-body", text: body })]),
    );
    detail.focus();
  }

  function cell(text) { return el("td", { text: text === null || text === undefined ? "any" : String(text) }); }

  async function refreshState() {
    const state = await call("GET", "/__mock__/state");
    const faults = document.getElementById("fault-rows");
    faults.replaceChildren(...(state.faults.length ? state.faults.map(function (fault) {
      const remove = el("button", { type: "button", class: "remove-fault", "data-id": String(fault.id), text: "Remove" });
      return el("tr", { "data-fault": String(fault.id) }, [
        el("td", { text: String(fault.id) }), el("td", { text: fault.vendor }), cell(fault.status),
        el("td", { text: String(Math.round(fault.delay * 1000)) }), cell(fault.remaining === null ? "for ever" : fault.remaining),
        cell(fault.path), cell(fault.tenant), el("td", {}, [remove]),
      ]);
    }) : [el("tr", { class: "empty" }, [el("td", { colspan: "8", text: "No active faults." })])]));
    renderDrifts(state.drifts || []);
    const tenants = document.getElementById("tenant-rows");
    tenants.replaceChildren(...state.tenants.map(function (t) {
      const counts = Object.entries(t.records).map(function (kv) { return kv[0] + ": " + kv[1]; }).join(", ");
      return el("tr", { "data-vendor": t.vendor, "data-tenant": t.tenant }, [
        el("td", { text: t.vendor }), el("td", { text: t.tenant }), el("td", { text: counts }),
        el("td", { text: t.own_data ? "yes" : "fixtures" }), el("td", { class: "num", text: String(t.requests) }),
      ]);
    }));
    const select = filter.elements.tenant;
    const names = Array.from(new Set(state.tenants.map(function (t) { return t.tenant; }))).sort();
    if (select.dataset.names !== names.join("\n")) { // rebuilt only when it changes: keeps keyboard focus
      const chosen = select.value;
      select.replaceChildren(el("option", { value: "", text: "all" }), ...names.map(function (name) { return el("option", { text: name }); }));
      select.value = names.includes(chosen) ? chosen : "";
      select.dataset.names = names.join("\n");
    }
  }

  let journalTimer = null;
  let stateTimer = null;
  function live() { return filter.elements.live.checked && !document.hidden; }

  async function journalLoop() {
    journalTimer = null;
    if (!live()) return;
    const mine = generation;
    if (Date.now() >= eventsRetryAt) {
      try { await follow(mine); } catch (error) { /* refused or cut: poll for a while */ }
      if (mine !== generation) return;
      stream = null;
      eventsRetryAt = Date.now() + RETRY_EVENTS_MS;
    }
    journalMode("polling");
    try { await pollJournal(); if (statusLine.dataset.error) { say(""); delete statusLine.dataset.error; } }
    catch (error) { say("Journal: " + error.message); statusLine.dataset.error = "1"; }
    if (journalTimer === null && live() && mine === generation) journalTimer = setTimeout(journalLoop, POLL_MS);
  }

  async function stateLoop() {
    stateTimer = null;
    if (document.hidden) return;
    try { await refreshState(); } catch (error) { say("State: " + error.message); }
    if (stream) pollJournal().catch(function () {}); // catch up: requests answered by other servers
    if (stateTimer === null && !document.hidden) stateTimer = setTimeout(stateLoop, STATE_MS);
  }

  function restart() {
    generation += 1;
    latest = 0;
    stopFollowing();
    eventsRetryAt = 0;
    rows.replaceChildren(el("tr", { class: "empty" }, [el("td", { colspan: "9", text: "No requests yet." })]));
    clearTimeout(journalTimer); journalTimer = null;
    clearTimeout(stateTimer); stateTimer = null;
    if (tokenRequired && !(tokenInput && tokenInput.value)) {
      say("This emulator has an admin token: enter it above to see the journal, faults and tenants.");
      return;
    }
    say("");
    journalLoop();
    stateLoop();
    chooseVendor();
  }

  async function act(label, work) {
    try { await work(); say(label); } catch (error) { say(label + " failed: " + error.message); }
    clearTimeout(stateTimer); stateTimer = null;
    stateLoop();
  }

  filter.addEventListener("change", restart);
  filter.addEventListener("submit", function (event) { event.preventDefault(); });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) restart();
    else { generation += 1; stopFollowing(); } // a hidden page neither follows nor polls
  });

  rows.addEventListener("click", function (event) {
    const button = event.target.closest("button.open");
    if (button) openEntry(button.dataset.sequence).catch(function (error) { say("Request: " + error.message); });
  });

  document.getElementById("reset").addEventListener("click", function () {
    act("Reset every vendor.", function () { return call("POST", "/__mock__/reset", {}); }).then(restart);
  });
  document.getElementById("clear-journal").addEventListener("click", function () {
    act("Journal cleared.", function () { return call("DELETE", "/__mock__/journal"); }).then(restart);
  });

  document.getElementById("fault-rows").addEventListener("click", function (event) {
    const button = event.target.closest("button.remove-fault");
    if (!button) return;
    act("Fault " + button.dataset.id + " removed.", function () {
      return call("DELETE", "/__mock__/faults/" + encodeURIComponent(button.dataset.id));
    });
  });

  document.getElementById("fault-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const form = event.target.elements;
    const body = {};
    if (form.status.value) body.status = Number(form.status.value);
    if (form.delay.value) body.delay = Number(form.delay.value) / 1000;
    if (form.times.value) body.times = Number(form.times.value);
    if (form.path.value) body.path = form.path.value;
    if (form.tenant.value) body.tenant = form.tenant.value;
    const vendor = form.vendor.value;
    act("Fault added to " + vendor + ".", function () {
      return call("POST", "/__mock__/" + encodeURIComponent(vendor) + "/faults", body);
    });
  });


  // ------------------------------------------------------------------------------------------ drifts

  function paramsText(params) {
    const pairs = Object.entries(params || {});
    return pairs.length ? pairs.map(function (kv) { return kv[0] + "=" + kv[1]; }).join(", ") : "defaults";
  }

  function renderDrifts(drifts) {
    const body = document.getElementById("drift-rows");
    body.replaceChildren(...(drifts.length ? drifts.map(function (drift) {
      const action = drift.standing
        ? el("span", { class: "badge standing", text: "standing" })
        : el("button", { type: "button", class: "remove-drift", "data-id": String(drift.id),
            "aria-label": "Switch drift " + drift.id + " off", text: "Switch off" });
      return el("tr", { "data-drift": drift.drift, "data-id": drift.standing ? "" : String(drift.id),
        "data-vendor": drift.vendor }, [
        el("td", { text: drift.standing ? "—" : String(drift.id) }), el("td", { text: drift.vendor }),
        el("td", {}, [el("code", { text: drift.drift })]), el("td", { text: paramsText(drift.params) }),
        cell(drift.path), cell(drift.remaining === null ? "for ever" : drift.remaining),
        cell(drift.probability === undefined ? 1 : drift.probability),
        cell(drift.standing ? "every tenant" : drift.tenant), el("td", {}, [action]),
      ]);
    }) : [el("tr", { class: "empty" }, [el("td", { colspan: "9", text: "No active drifts." })])]));
  }

  async function loadCatalogue(vendor) {
    const data = await call("GET", "/__mock__/drifts?vendor=" + encodeURIComponent(vendor));
    catalogue[vendor] = data.catalogue[vendor];
    if (driftForm.elements.vendor.value === vendor) chooseVendor();
  }

  function chosenDrift() {
    const drifts = catalogue[driftForm.elements.vendor.value] || [];
    return drifts.find(function (drift) { return drift.id === driftForm.elements.drift.value; }) || null;
  }

  function chooseVendor() { // the drifts that apply to this vendor, with the one chosen kept if it applies
    const vendor = driftForm.elements.vendor.value;
    if (!(vendor in catalogue) && (!tokenRequired || (tokenInput && tokenInput.value))) {
      catalogue[vendor] = []; // asked for: not asked again while the answer is on its way
      loadCatalogue(vendor).catch(function (error) { delete catalogue[vendor]; say("Drifts: " + error.message); });
    }
    const select = driftForm.elements.drift;
    const chosen = select.value;
    const drifts = catalogue[vendor] || [];
    select.replaceChildren(...drifts.map(function (drift) { return el("option", { value: drift.id, text: drift.id }); }));
    if (drifts.some(function (drift) { return drift.id === chosen; })) select.value = chosen;
    chooseDrift();
  }

  function chooseDrift() { // its endpoints, and a field per parameter showing the default there
    const drift = chosenDrift();
    const endpoint = driftForm.elements.endpoint;
    const paths = drift ? drift.applies.map(function (a) { return a.endpoint; }).filter(function (p) { return p !== "*"; }) : [];
    endpoint.replaceChildren(el("option", { value: "", text: "every one it applies to" }),
      ...paths.map(function (path) { return el("option", { value: path, text: path }); }));
    const target = drift ? (drift.applies.find(function (a) { return a.endpoint === endpoint.value; }) || drift.applies[0]) : null;
    const fields = document.getElementById("drift-params");
    fields.replaceChildren(...(drift ? drift.params.map(function (param) {
      const fallback = target && target.defaults[param.name] !== undefined ? String(target.defaults[param.name]) : "";
      const choices = param.choices || (target && target.choices && target.choices[param.name]) || null;
      let input;
      if (choices) {
        input = el("select", { name: "param-" + param.name, "data-param": param.name },
          [el("option", { value: "", text: "default" + (fallback ? " (" + fallback + ")" : "") }),
           ...choices.map(function (choice) { return el("option", { value: String(choice), text: String(choice) }); })]);
      } else {
        input = el("input", { name: "param-" + param.name, "data-param": param.name, type: "text",
          placeholder: fallback ? "default: " + fallback : "default" });
      }
      return el("label", { title: param.description }, [param.name + " ", input]);
    }) : []));
    document.getElementById("drift-about").textContent = drift
      ? drift.summary + (drift.kind ? " (the monitor reports " + drift.kind + ")" : "") + (drift.loops ? " May make a naive client page for ever." : "")
      : "";
  }

  driftForm.elements.vendor.addEventListener("change", chooseVendor);
  driftForm.elements.drift.addEventListener("change", chooseDrift);
  driftForm.elements.endpoint.addEventListener("change", function () {
    const kept = {}; // the values typed so far survive the new defaults
    for (const input of driftForm.querySelectorAll("[data-param]")) kept[input.dataset.param] = input.value;
    chooseDrift();
    for (const input of driftForm.querySelectorAll("[data-param]")) {
      if (kept[input.dataset.param]) input.value = kept[input.dataset.param];
    }
  });

  driftForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const form = driftForm.elements;
    const body = { drift: form.drift.value };
    const params = {};
    for (const input of driftForm.querySelectorAll("[data-param]")) {
      if (input.value !== "") params[input.dataset.param] = input.value; // empty: the default there
    }
    if (Object.keys(params).length) body.params = params;
    if (form.endpoint.value) body.endpoint = form.endpoint.value;
    if (form.times.value) body.times = Number(form.times.value);
    if (form.probability.value) body.probability = Number(form.probability.value);
    if (form.tenant.value) body.tenant = form.tenant.value;
    const vendor = form.vendor.value;
    act("Drift " + body.drift + " switched on for " + vendor + ".", function () {
      return call("POST", "/__mock__/" + encodeURIComponent(vendor) + "/drifts", body);
    });
  });

  document.getElementById("drift-rows").addEventListener("click", function (event) {
    const button = event.target.closest("button.remove-drift");
    if (!button) return;
    act("Drift " + button.dataset.id + " switched off.", function () {
      return call("DELETE", "/__mock__/drifts/" + encodeURIComponent(button.dataset.id));
    });
  });

  document.getElementById("drifts-off").addEventListener("click", function () {
    act("Drifts switched off.", async function () {
      const done = await call("DELETE", "/__mock__/drifts");
      if (done.kept.length) throw new Error(done.kept.length + " for every tenant kept: they need the admin token");
    });
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const text = document.getElementById(button.dataset.copy).textContent;
    const done = function () { say("Copied."); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () { say("Copy failed: select the text."); });
    else {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById(button.dataset.copy));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      say("Selected: press Ctrl+C to copy.");
    }
  });

  restart();
})();

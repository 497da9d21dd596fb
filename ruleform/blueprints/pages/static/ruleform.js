/* Ruleform pages: small progressive enhancements. Everything works without this file;
   the server enforces every rule. No condition logic lives here: the form asks the server
   (`data-form-state-url`) which fields are visible, required and editable. */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  /* --- navigation on narrow screens ------------------------------------------------ */
  function setupNav() {
    var toggle = document.querySelector("[data-nav-toggle]");
    var nav = document.getElementById("primary-nav");
    if (!toggle || !nav) { return; }
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      nav.classList.toggle("is-open", !open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("is-open")) {
        nav.classList.remove("is-open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }

  /* --- menus close on Escape and outside clicks --------------------------------------- */
  function setupMenus() {
    document.addEventListener("click", function (event) {
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        menu.removeAttribute("open");
        var summary = menu.querySelector("summary");
        if (summary) { summary.focus(); }
      });
    });
  }

  /* --- confirmations (data-confirm on a form) ---------------------------------------- */
  function setupConfirm() {
    document.addEventListener("submit", function (event) {
      var text = event.target.getAttribute && event.target.getAttribute("data-confirm");
      if (text && !window.confirm(text)) { event.preventDefault(); }
    });
  }

  /* --- error summary gets focus so screen readers announce it ------------------------- */
  function focusSummary() {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  }

  /* --- conditional fields ------------------------------------------------------------ */
  function fieldWrapper(form, name) {
    var all = form.querySelectorAll("[data-field]");
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-field") === name) { return all[i]; }
    }
    return null;
  }

  function applyField(wrapper, state) {
    wrapper.classList.toggle("is-hidden", !state.visible);
    var mark = wrapper.querySelector(".req");
    if (mark) { mark.hidden = !state.required; }
    if (!wrapper.hasAttribute("data-input")) { return; }
    var controls = wrapper.querySelectorAll("input, select, textarea");
    for (var i = 0; i < controls.length; i++) {
      var control = controls[i];
      control.disabled = !state.editable;
      if (control.type !== "hidden" && control.type !== "checkbox") {
        if (state.required) { control.setAttribute("aria-required", "true"); }
        else { control.removeAttribute("aria-required"); }
      }
    }
  }

  function applySections(form) {
    form.querySelectorAll("[data-section]").forEach(function (section) {
      var fields = section.querySelectorAll("[data-field]");
      var shown = false;
      for (var i = 0; i < fields.length; i++) {
        if (!fields[i].classList.contains("is-hidden")) { shown = true; break; }
      }
      section.classList.toggle("is-hidden", !shown);
    });
  }

  function setupFormState(form) {
    var url = form.getAttribute("data-form-state-url");
    if (!url || !window.fetch || !window.FormData) { return; }
    var tokenInput = form.querySelector('input[name="csrf_token"]');
    var timer = null;
    var sequence = 0;

    function ask() {
      var mine = ++sequence;
      var headers = { "Accept": "application/json" };
      if (tokenInput) { headers["X-CSRFToken"] = tokenInput.value; }
      fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: headers })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state || mine !== sequence) { return; }
          Object.keys(state).forEach(function (name) {
            var wrapper = fieldWrapper(form, name);
            if (wrapper) { applyField(wrapper, state[name]); }
          });
          applySections(form);
        })
        .catch(function () { /* offline or server error: the server still checks on submit */ });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 250);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
  }

  ready(function () {
    setupNav();
    setupMenus();
    setupConfirm();
    focusSummary();
    document.querySelectorAll("form[data-form-state-url]").forEach(setupFormState);
  });
})();

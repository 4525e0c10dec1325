// OpenLSC: small progressive enhancements. Every page works without this file.
"use strict";

document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", function () {
  menu();
  confirmations();
  copyButtons();
  localTimes();
  openTarget();
});

// A link to /help#question opens that question.
function openTarget() {
  var target = location.hash && document.getElementById(location.hash.slice(1));
  if (target && target.tagName === "DETAILS") {
    target.open = true;
  }
}

// On phones the side navigation collapses behind a Menu button.
function menu() {
  var button = document.querySelector(".menu-button");
  var nav = document.getElementById("sidenav");
  if (!button || !nav) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = nav.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
}

// A destructive or irreversible action asks first: a submit button with
// data-confirm="question" submits only after the person agrees.
function confirmations() {
  document.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      e.preventDefault();
    }
  });
}

// A button with data-copy="text" copies the text and says so.
function copyButtons() {
  if (!navigator.clipboard) {
    return;
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var label = button.textContent;
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        button.textContent = button.getAttribute("data-copied") || label;
        setTimeout(function () {
          button.textContent = label;
        }, 2000);
      });
    });
  });
}

// Show server times (rendered in UTC) in the visitor's own time zone,
// keeping the UTC text as a tooltip.
function localTimes() {
  var lang = document.documentElement.lang || undefined;
  var format;
  try {
    format = new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" });
  } catch (e) {
    return;
  }
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when.getTime())) {
      return;
    }
    el.title = el.textContent;
    el.textContent = format.format(when);
  });
}

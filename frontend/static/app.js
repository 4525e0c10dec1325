// OpenLSC: small progressive enhancements. Every page works without this file.
"use strict";

document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", function () {
  // Show server times (rendered in UTC) in the visitor's own time zone,
  // keeping the UTC text as a tooltip.
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
});

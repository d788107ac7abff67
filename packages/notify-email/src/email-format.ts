/**
 * A notification as an email: a subject that starts with the severity (so it reads in a crowded
 * inbox), a plain-text part for every client and an HTML part with a colour bar in the severity's
 * colour, the data as a table (JSON values in `<code>`), and the dashboard link. Headers
 * `X-Tradecron-Kind`, `X-Tradecron-Severity` and `X-Tradecron-Timestamp` let mail rules sort
 * them; critical ones are also marked high priority (X-Priority 1, Importance: high).
 *
 * Email has no length limit worth cutting for; the notification's own limits (subject 1,000,
 * body 100,000 characters) bound it. Subject lines are folded and encoded by nodemailer
 * (RFC 5322 / RFC 2047).
 */

import { layoutNotification, type Notification } from "@tradecron/core";

/** What the notifier hands to nodemailer. */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  /** nodemailer's priority: it writes X-Priority, X-MSMail-Priority and Importance. */
  priority: "high" | "normal";
}

/** Escapes text for HTML (element content and attribute values). */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** The email for `n`. */
export function emailContent(
  n: Notification,
  options: { subjectPrefix?: string; dashboardUrl?: string | null } = {},
): EmailContent {
  const m = layoutNotification(n, options.dashboardUrl ?? null);
  const prefix = options.subjectPrefix ? `${options.subjectPrefix} ` : "";
  const meta = `${m.style.label} · ${m.kind} · ${m.timestamp}`;

  const text = [
    meta,
    "",
    m.subject,
    ...(m.body ? ["", m.body] : []),
    ...(m.fields.length > 0 ? ["", ...m.fields.map((f) => `${f.name}: ${f.value}`)] : []),
    ...(m.dataBlock !== null ? ["", m.dataBlock] : []),
    ...(m.link ? ["", `Dashboard: ${m.link}`] : []),
    "",
  ].join("\n");

  const cell = "padding:4px 12px 4px 0;vertical-align:top;text-align:left";
  const rows = m.fields
    .map(
      (f) =>
        `<tr><th style="${cell};color:#555">${escapeHtml(f.name)}</th><td style="${cell}">${
          f.code ? `<code>${escapeHtml(f.value)}</code>` : escapeHtml(f.value)
        }</td></tr>`,
    )
    .join("");
  const html = [
    "<!doctype html>",
    '<html><body style="margin:0;padding:16px;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2939">',
    `<div style="border-left:6px solid ${m.style.hex};padding:4px 0 4px 14px">`,
    `<p class="severity" style="margin:0;color:${m.style.hex};font-weight:700;letter-spacing:.04em">${m.style.label}</p>`,
    `<h1 class="subject" style="margin:4px 0 12px;font-size:18px">${escapeHtml(m.subject)}</h1>`,
    m.body
      ? `<div class="body" style="white-space:pre-wrap;margin:0 0 12px">${escapeHtml(m.body)}</div>`
      : "",
    rows
      ? `<table class="data" role="presentation" style="border-collapse:collapse;margin:0 0 12px">${rows}</table>`
      : "",
    m.dataBlock !== null
      ? `<pre class="data" style="background:#f2f4f7;padding:8px;overflow:auto"><code>${escapeHtml(m.dataBlock)}</code></pre>`
      : "",
    `<p class="meta" style="margin:0;color:#667085;font-size:12px"><code>${escapeHtml(m.kind)}</code> · ${escapeHtml(m.timestamp)}</p>`,
    m.link ? `<p style="margin:12px 0 0"><a href="${escapeHtml(m.link)}">Open the dashboard</a></p>` : "",
    "</div>",
    "</body></html>",
  ].join("");

  return {
    subject: `${prefix}${m.style.label}: ${m.subject}`,
    text,
    html,
    headers: {
      // A kind is free text: no line break may reach a header.
      "X-Tradecron-Kind": m.kind.replace(/[\r\n]+/g, " "),
      "X-Tradecron-Severity": m.severity,
      "X-Tradecron-Timestamp": m.timestamp,
    },
    priority: m.severity === "critical" ? "high" : "normal",
  };
}

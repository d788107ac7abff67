/**
 * A real SMTP server for the tests (smtp-server, the server half of nodemailer's project) on
 * 127.0.0.1 and a free port: plain, STARTTLS or implicit TLS with a certificate made for the
 * test, optional AUTH, and replies the test can script (451 "try later", 554 "refused"). It parses
 * what it receives with mailparser and can read a message back into the notification it came from.
 */

import type { AddressInfo } from "node:net";
import type { Notification, NotificationSeverity } from "@tradecron/core";
import { type ParsedMail, simpleParser } from "mailparser";
import { generate } from "selfsigned";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

/** A certificate for `localhost` and 127.0.0.1, made once per test file. */
export async function testCertificate(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** One message as received. */
export interface ReceivedMail {
  mail: ParsedMail;
  from: string;
  to: string[];
  /** Whether the session was encrypted when the message came. */
  secure: boolean;
  /** The user the session authenticated as, if any. */
  user: string | null;
}

/** How the server is set up. */
export interface SmtpFakeOptions {
  tls?: { key: string; cert: string };
  /** Implicit TLS (needs `tls`). */
  secure?: boolean;
  /** Require AUTH with these credentials. */
  auth?: { user: string; pass: string };
}

/** A local SMTP server. */
export class SmtpFake {
  readonly received: ReceivedMail[] = [];
  /** AUTH attempts seen, and whether the connection was encrypted for each. */
  readonly authAttempts: { user: string; secure: boolean }[] = [];
  private readonly script: { code: number; message: string }[] = [];
  private broken = false;

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(options: SmtpFakeOptions = {}): Promise<SmtpFake> {
    let self: SmtpFake | null = null;
    const reject = (message: string, code: number) =>
      Object.assign(new Error(message), { responseCode: code });
    const config: SMTPServerOptions = {
      logger: false,
      secure: options.secure ?? false,
      ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
      disabledCommands: options.tls ? [] : ["STARTTLS"],
      authOptional: !options.auth,
      allowInsecureAuth: true, // the client must refuse clear-text AUTH on its own: that is what we test
      onAuth(auth, session, callback) {
        self?.authAttempts.push({ user: auth.username ?? "", secure: session.secure });
        if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
          callback(null, { user: auth.username });
        } else callback(reject("Invalid username or password", 535));
      },
      onRcptTo(_address, _session, callback) {
        const next = self?.script.shift();
        if (next) callback(reject(next.message, next.code));
        else if (self?.broken) callback(reject("mailbox unavailable", 554));
        else callback();
      },
      onData(stream, session, callback) {
        simpleParser(stream)
          .then((mail) => {
            self?.received.push({
              mail,
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
              to: session.envelope.rcptTo.map((r) => r.address),
              secure: session.secure,
              user: (session.user as string | undefined) ?? null,
            });
            callback();
          })
          .catch((e: Error) => callback(e));
      },
    };
    const server = new SMTPServer(config);
    server.on("error", () => {}); // a client that hangs up mid-dialogue is not the test's failure
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self = new SmtpFake(server, (server.server.address() as AddressInfo).port);
    return self;
  }

  /** Answers the next RCPT TO with `code` (451: try later; 550/554: refused). */
  replyNext(code: number, message: string): void {
    this.script.push({ code, message });
  }

  /** Refuses every message from now on (554). */
  breakIt(): void {
    this.broken = true;
  }

  /** What it received, read back as notifications. */
  notifications(): Notification[] {
    return this.received.map((r) => decodeMail(r.mail));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

/** Reads a mail we sent back: kind, severity and time from our headers, the rest from the HTML part. */
export function decodeMail(mail: ParsedMail): Notification {
  const header = (name: string) => String(mail.headers.get(name) ?? "");
  const html = String(mail.html || "");
  const subject = /<h1 class="subject"[^>]*>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? "";
  const body = /<div class="body"[^>]*>([\s\S]*?)<\/div>/.exec(html)?.[1] ?? "";
  let data: unknown = null;
  const table = /<table class="data"[^>]*>([\s\S]*?)<\/table>/.exec(html);
  const pre = /<pre class="data"[^>]*><code>([\s\S]*?)<\/code><\/pre>/.exec(html);
  if (table) {
    const rows = [
      ...(table[1] ?? "").matchAll(/<tr><th[^>]*>([\s\S]*?)<\/th><td[^>]*>([\s\S]*?)<\/td><\/tr>/g),
    ];
    data = Object.fromEntries(
      rows.map(([, name = "", cell = ""]) => {
        const code = /^<code>([\s\S]*)<\/code>$/.exec(cell);
        return [unescapeHtml(name), code ? JSON.parse(unescapeHtml(code[1] ?? "")) : unescapeHtml(cell)];
      }),
    );
  } else if (pre) data = JSON.parse(unescapeHtml(pre[1] ?? ""));
  return {
    subject: unescapeHtml(subject),
    body: unescapeHtml(body),
    timestamp: header("x-tradecron-timestamp"),
    severity: header("x-tradecron-severity") as NotificationSeverity,
    kind: header("x-tradecron-kind"),
    data: data as Notification["data"],
  };
}

import { inspect } from "node:util";
import { CORE_NOTIFIER_TYPES, NotifierError, notifierFromConfig, ValidationError } from "@tradecron/core";
import { makeNotification, notifierConformance, TestClock } from "@tradecron/core/testing";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  EmailNotifier,
  type EmailNotifierOptions,
  emailNotifierType,
  type SmtpOptions,
} from "../src/index.js";
import { SmtpFake, testCertificate } from "./smtp-fake.js";

let cert: { key: string; cert: string };
beforeAll(async () => {
  cert = await testCertificate();
});

const USER = "alerts";
const PASS = "s3cret-smtp-passw0rd";

/** STARTTLS with AUTH, the certificate checked against the test's own CA. */
async function tlsServer() {
  const server = await SmtpFake.start({ tls: cert, auth: { user: USER, pass: PASS } });
  const options: EmailNotifierOptions = {
    from: "tradecron <alerts@example.com>",
    to: ["ops@example.com", "Desk <desk@example.com>"],
    smtp: {
      host: "localhost",
      port: server.port,
      user: USER,
      password: PASS,
      tls: { ca: cert.cert },
    },
  };
  return { server, options };
}

notifierConformance({ describe, it }, async () => {
  const { server, options } = await tlsServer();
  return {
    notifier: new EmailNotifier({ ...options, rateLimit: false, retry: false }),
    received: () => server.notifications(),
    breakTarget: () => server.breakIt(),
    cleanup: () => server.close(),
  };
});

const servers: SmtpFake[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function started<T extends { server: SmtpFake }>(setup: Promise<T>): Promise<T> {
  const s = await setup;
  servers.push(s.server);
  return s;
}

describe("EmailNotifier over SMTP", () => {
  it("sends a plain-text and an HTML part, severity in the subject, our headers, high priority when critical", async () => {
    const { server, options } = await started(tlsServer());
    const email = new EmailNotifier({
      ...options,
      rateLimit: false,
      dashboardUrl: "https://ops.example.com/",
    });
    await email.notify(makeNotification());
    const [got] = server.received;
    expect(got?.secure).toBe(true); // STARTTLS happened before AUTH and DATA
    expect(got?.user).toBe(USER);
    expect(got?.to).toEqual(["ops@example.com", "desk@example.com"]);
    expect(got?.mail.subject).toBe("[tradecron] CRITICAL: Job rebalance failed after 3 attempts");
    expect(got?.mail.text).toBe(
      [
        "CRITICAL · run_failed · 2026-01-05T14:30:05.123Z",
        "",
        "Job rebalance failed after 3 attempts",
        "",
        "rebalance (fire 2026-01-05T14:30:00.000Z) failed: broker unavailable",
        "",
        "scheduleId: rebalance",
        "attempts: 3",
        'error: {"code":"BROKER_UNAVAILABLE"}',
        'symbols: ["AAPL"]',
        "",
        "Dashboard: https://ops.example.com/",
        "",
      ].join("\n"),
    );
    expect(got?.mail.html).toContain("border-left:6px solid #d92d20");
    expect(got?.mail.html).toContain('<a href="https://ops.example.com/">Open the dashboard</a>');
    // X-Priority 1 and Importance: high, which mailparser folds into one `priority`
    expect(got?.mail.headers.get("priority")).toBe("high");
    expect(got?.mail.headers.get("x-tradecron-kind")).toBe("run_failed");
    expect(server.notifications()).toEqual([makeNotification()]);
  });

  it("reports a message some recipients refused, without resending it to those who got it", async () => {
    const { server, options } = await started(tlsServer());
    const email = new EmailNotifier({ ...options, rateLimit: false });
    server.replyNext(550, "no such user");
    const error = (await email.notify(makeNotification()).catch((e: unknown) => e)) as NotifierError;
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(
      /delivered to desk@example.com but refused for ops@example.com: 550 no such user/,
    );
    expect(server.received.map((r) => r.to)).toEqual([["desk@example.com"]]);
  });

  it("escapes HTML so a job's text cannot inject markup", async () => {
    const { server, options } = await started(tlsServer());
    const email = new EmailNotifier({ ...options, rateLimit: false });
    const n = makeNotification({
      subject: "<script>x</script>",
      body: '<img src=x onerror="alert(1)"> & co',
      data: { q: "<b>" },
    });
    await email.notify(n);
    expect(server.received[0]?.mail.html).not.toMatch(/<script>|<img /);
    expect(server.notifications()).toEqual([n]);
  });

  it("speaks implicit TLS (smtps) too", async () => {
    const server = await SmtpFake.start({ tls: cert, secure: true, auth: { user: USER, pass: PASS } });
    servers.push(server);
    const email = new EmailNotifier({
      from: "alerts@example.com",
      to: "ops@example.com",
      url: `smtps://${USER}:${encodeURIComponent(PASS)}@localhost:${server.port}`,
      rateLimit: false,
      retry: false,
    });
    // A URL cannot carry a CA, so this one must fail on the certificate: verification is on.
    const error = (await email.notify(makeNotification()).catch((e: unknown) => e)) as NotifierError;
    expect(error).toBeInstanceOf(NotifierError);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/certificate/);
    const trusted = new EmailNotifier({
      from: "alerts@example.com",
      to: "ops@example.com",
      smtp: {
        host: "localhost",
        port: server.port,
        secure: true,
        user: USER,
        password: PASS,
        tls: { ca: cert.cert },
      },
      rateLimit: false,
    });
    await trusted.notify(makeNotification({ subject: "over smtps" }));
    expect(server.received.map((r) => [r.mail.subject, r.secure])).toEqual([
      ["[tradecron] CRITICAL: over smtps", true],
    ]);
  });

  it("sends without TLS or AUTH to a local relay when told to", async () => {
    const server = await SmtpFake.start();
    servers.push(server);
    const email = new EmailNotifier({
      from: "alerts@example.com",
      to: "ops@example.com",
      subjectPrefix: "",
      smtp: { host: "127.0.0.1", port: server.port },
      rateLimit: false,
    });
    await email.notify(makeNotification({ severity: "info", subject: "plain" }));
    expect(server.received.map((r) => [r.mail.subject, r.secure])).toEqual([["INFO: plain", false]]);
  });

  it("never sends a password in clear: with credentials and no STARTTLS it refuses before AUTH", async () => {
    const server = await SmtpFake.start({ auth: { user: USER, pass: PASS } });
    servers.push(server);
    const email = new EmailNotifier({
      from: "alerts@example.com",
      to: "ops@example.com",
      smtp: { host: "127.0.0.1", port: server.port, user: USER, password: PASS },
      rateLimit: false,
      retry: false,
    });
    await expect(email.notify(makeNotification())).rejects.toThrow(NotifierError);
    expect(server.authAttempts).toEqual([]);
    expect(server.received).toEqual([]);
  });

  it("retries a 451 'try again later' and gives up at once on a refused login", async () => {
    const { server, options: two } = await started(tlsServer());
    const options = { ...two, to: "ops@example.com" };
    // The system clock: a 0 ms backoff needs no test to move time.
    const email = new EmailNotifier({ ...options, rateLimit: false, retry: { attempts: 2, baseMs: 0 } });
    server.replyNext(451, "greylisted, try again later");
    await email.notify(makeNotification({ subject: "after a retry" }));
    expect(email.stats()).toMatchObject({ sent: 1, retried: 1 });
    expect(server.notifications().map((n) => n.subject)).toEqual(["after a retry"]);

    const wrong = new EmailNotifier({
      ...options,
      smtp: { ...(options.smtp as SmtpOptions), password: "not-the-password" },
      rateLimit: false,
    });
    const error = (await wrong.notify(makeNotification()).catch((e: unknown) => e)) as NotifierError;
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(
      /^notifier email: sending to smtp:\/\/localhost:\d+ failed \(EAUTH\): .*535/,
    );
    expect(wrong.stats()).toMatchObject({ failed: 1, retried: 0 });
  });

  it("keeps an inbox from flooding: 5 a minute by default, the rest in one summary", async () => {
    const { server, options } = await started(tlsServer());
    const clock = new TestClock();
    const email = new EmailNotifier({ ...options, clock, maxDelay: 0 });
    for (let i = 0; i < 12; i += 1) {
      await email.notify(
        makeNotification({ subject: `failure ${i}`, timestamp: new Date(clock.now()).toISOString() }),
      );
    }
    expect(server.received).toHaveLength(5);
    const flushed = email.flush();
    await clock.advance(60_000);
    await flushed;
    await email.close();
    expect(server.notifications().map((n) => n.subject)).toEqual([
      "failure 0",
      "failure 1",
      "failure 2",
      "failure 3",
      "failure 4",
      "7 more run_failed notifications suppressed in the last 1 s",
    ]);
  });
});

describe("EmailNotifier options, config and secrets", () => {
  it("validates its options, naming the field", () => {
    const base = { from: "a@example.com", to: "b@example.com", smtp: { host: "localhost" } };
    const bad = (o: object) => () => new EmailNotifier({ ...base, ...o } as EmailNotifierOptions);
    expect(bad({ to: "nobody" })).toThrow(/to: must be an email address/);
    expect(bad({ url: "smtp://x" })).toThrow(/smtp: give exactly one of smtp, url and transport/);
    expect(bad({ smtp: { host: "x", port: 70_000 } })).toThrow(/smtp.port/);
    expect(bad({ smtp: undefined, url: "http://mail" })).toThrow(/url: must be an smtp/);
    expect(bad({ minSeverity: "urgent" })).toThrow(ValidationError);
  });

  it("is built from a config entry, the password read from the environment", async () => {
    const { server } = await started(tlsServer());
    const email = notifierFromConfig(
      {
        type: "email",
        from: "alerts@example.com",
        to: "ops@example.com",
        smtp: {
          host: "localhost",
          port: server.port,
          user: USER,
          password: { env: "SMTP_PW" },
          tls: { ca: cert.cert },
        },
        kinds: ["paused_all"],
        rateLimit: false,
      },
      { types: [...CORE_NOTIFIER_TYPES, emailNotifierType], env: { SMTP_PW: PASS } },
    );
    expect(email).toBeInstanceOf(EmailNotifier);
    await email.notify(makeNotification({ kind: "run_failed" }));
    await email.notify(makeNotification({ kind: "paused_all" }));
    expect(server.notifications().map((n) => n.kind)).toEqual(["paused_all"]);
    expect(() =>
      notifierFromConfig(
        { type: "email", from: "a@example.com", to: "b@example.com", smtp: { host: "h", user: "u" } },
        { types: [emailNotifierType], env: {} },
      ),
    ).toThrow(
      "notifierFromConfig: notifier.smtp.password: environment variable TRADECRON_SMTP_PASSWORD is not set",
    );
  });

  it("never shows the SMTP password in errors, toJSON or inspect", async () => {
    const server = await SmtpFake.start({ tls: cert, auth: { user: USER, pass: "something-else" } });
    servers.push(server);
    const viaSmtp = new EmailNotifier({
      from: "alerts@example.com",
      to: "ops@example.com",
      smtp: { host: "localhost", port: server.port, user: USER, password: PASS, tls: { ca: cert.cert } },
      retry: false,
    });
    const viaUrl = new EmailNotifier({
      from: "alerts@example.com",
      to: "ops@example.com",
      url: `smtp://${USER}:${PASS}@127.0.0.1:1`,
      retry: false,
    });
    const authError = await viaSmtp.notify(makeNotification()).catch((e: unknown) => e);
    const connError = await viaUrl.notify(makeNotification()).catch((e: unknown) => e);
    expect(String(connError)).toMatch(
      /sending to smtp:\/\/127\.0\.0\.1:1 failed \(ESOCKET\): connect ECONNREFUSED/,
    );
    for (const x of [authError, connError, viaSmtp, viaUrl]) {
      for (const text of [String(x), JSON.stringify(x), inspect(x, { depth: 10, showHidden: true })]) {
        expect(text).not.toContain(PASS);
        expect(text).not.toContain(Buffer.from(`\u0000${USER}\u0000${PASS}`).toString("base64"));
      }
    }
    expect(viaUrl.toJSON()).toEqual({
      type: "email",
      name: "email",
      destination: "smtp://127.0.0.1:1",
      rateLimit: "5 per 60 s",
    });
  });
});

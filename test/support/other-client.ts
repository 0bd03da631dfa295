// Another program on the same IP: its own process, sending one GET every
// `everyMs` on a fixed schedule (a late tick is skipped, never made up in a
// burst), as a trading bot polling the exchange would. It ignores what the
// exchange says, as many such programs do. Prints "ready" after its first
// answer and, on SIGTERM, one JSON line: {"sent": n, "statuses": {...}}.
//
//   tsx test/support/other-client.ts <url> <everyMs>
const [url, every] = process.argv.slice(2);
const everyMs = Number(every);
if (!url || !(everyMs > 0)) {
  process.stderr.write('usage: other-client.ts <url> <everyMs>\n');
  process.exit(2);
}

let sent = 0;
let ready = false;
const statuses: Record<string, number> = {};
const start = performance.now();

function tick(n: number): void {
  sent++;
  void fetch(url!)
    .then(async (res) => {
      await res.arrayBuffer();
      return String(res.status);
    }, () => 'error')
    .then((status) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (!ready) {
        ready = true;
        process.stdout.write('ready\n');
      }
    });
  const next = Math.max(n + 1, Math.ceil((performance.now() - start) / everyMs));
  setTimeout(() => tick(next), start + next * everyMs - performance.now());
}

process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ sent, statuses })}\n`, () => process.exit(0));
});
tick(0);

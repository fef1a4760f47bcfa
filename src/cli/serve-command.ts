import type { Command } from "commander";

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("run the Nines server (SQLite in ./data unless NINES_DATABASE_URL names PostgreSQL)")
    .option("--config <path>", "config file or directory applied at start and on SIGHUP (NINES_CONFIG)")
    .option("--host <host>", "address to listen on (NINES_HOST, default 127.0.0.1)")
    .option("--port <port>", "port to listen on (NINES_PORT, default 9999)")
    .option("--data-dir <dir>", "where SQLite and the admin token live (NINES_DATA_DIR, default ./data)")
    .option("--database-url <url>", "postgres://… to use PostgreSQL (NINES_DATABASE_URL)")
    .action(
      async (options: {
        config?: string;
        host?: string;
        port?: string;
        dataDir?: string;
        databaseUrl?: string;
      }) => {
        const [{ createNines }, { loadSettings }, { limitHeapGrowth }] = await Promise.all([
          import("../app/nines-app.js"),
          import("../app/settings.js"),
          import("../platform/heap-growth.js"),
        ]);
        const settings = loadSettings(process.env, {
          configPath: options.config,
          host: options.host,
          port: options.port,
          dataDir: options.dataDir,
          databaseUrl: options.databaseUrl,
        });
        // Before the server holds anything: a long-running server keeps its garbage in check (see heap-growth.ts).
        limitHeapGrowth(settings.heapGrowthPercent);
        // Since the process started: the time to load the code, then the time until it serves.
        const loadedMs = Math.round(performance.now());
        const app = await createNines(settings);
        const url = await app.listen();
        app.log.info(
          { url, database: app.database.description, loadedMs, readyMs: Math.round(performance.now()) },
          "nines is serving",
        );
        if (app.adminTokenFile)
          process.stderr.write(`The admin token was written to ${app.adminTokenFile} (mode 0600).\n`);
        else if (settings.adminToken)
          process.stderr.write("The admin token is the one in NINES_ADMIN_TOKEN.\n");
        process.stderr.write(`Nines is serving at ${url} (state: ${app.database.description})\n`);
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          app.log.info({ signal }, "stopping: finishing requests in flight");
          app.close().then(
            () => {
              app.log.info("stopped");
              process.exit(0);
            },
            (error: unknown) => {
              app.log.error({ err: error }, "error while stopping");
              process.exit(1);
            },
          );
        };
        process.on("SIGTERM", () => stop("SIGTERM"));
        process.on("SIGINT", () => stop("SIGINT"));
        process.on("SIGHUP", () => {
          app
            .reloadConfig()
            .catch((error: unknown) => app.log.error({ err: error }, "configuration reload failed"));
        });
      },
    );
}

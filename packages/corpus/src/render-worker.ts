// Entry point of a render worker process (started by ProcessPool): renders jobs with resvg + sharp.
import { renderJob } from "./render.ts";
import { serveJobs } from "./worker-protocol.ts";

serveJobs(renderJob);

ALTER TABLE "runs" ADD COLUMN "host" text;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "slurm_job" text;
CREATE TABLE "failed_attempts" (
	"run_id" integer NOT NULL,
	"attempt" integer NOT NULL,
	"slot" text,
	"failed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"error" text NOT NULL,
	"retried" boolean NOT NULL,
	CONSTRAINT "failed_attempts_pkey" PRIMARY KEY("run_id","attempt")
);
--> statement-breakpoint
ALTER TABLE "failed_attempts" ADD CONSTRAINT "failed_attempts_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;
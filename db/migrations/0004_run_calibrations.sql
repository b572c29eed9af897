CREATE TABLE "run_calibrations" (
	"run_id" integer NOT NULL,
	"split" text NOT NULL,
	"n" integer NOT NULL,
	"brier" double precision NOT NULL,
	"ece" double precision NOT NULL,
	"temperature" double precision,
	"brier_scaled" double precision,
	"ece_scaled" double precision,
	CONSTRAINT "run_calibrations_pkey" PRIMARY KEY("run_id","split"),
	CONSTRAINT "run_calibrations_split_check" CHECK ("run_calibrations"."split" in ('val', 'test'))
);
--> statement-breakpoint
ALTER TABLE "run_calibrations" ADD CONSTRAINT "run_calibrations_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE VIEW "public"."calibration_summary" AS (
  select r.experiment_id, e.name as experiment, r.model, c.split, count(*)::integer as n,
         avg(c.brier) as brier_mean, stddev_samp(c.brier) as brier_std,
         avg(c.ece) as ece_mean, stddev_samp(c.ece) as ece_std,
         avg(c.temperature) as temperature_mean, stddev_samp(c.temperature) as temperature_std,
         avg(c.brier_scaled) as brier_scaled_mean, stddev_samp(c.brier_scaled) as brier_scaled_std,
         avg(c.ece_scaled) as ece_scaled_mean, stddev_samp(c.ece_scaled) as ece_scaled_std
  from run_calibrations c
  join runs r on r.id = c.run_id
  join experiments e on e.id = r.experiment_id
  where r.status = 'completed'
  group by r.experiment_id, e.name, r.model, c.split
);
CREATE TABLE "predictions" (
	"run_id" integer NOT NULL,
	"split" text NOT NULL,
	"image" text NOT NULL,
	"label" smallint NOT NULL,
	"probability" real NOT NULL,
	CONSTRAINT "predictions_pkey" PRIMARY KEY("run_id","split","image"),
	CONSTRAINT "predictions_split_check" CHECK ("predictions"."split" in ('train', 'val', 'test')),
	CONSTRAINT "predictions_label_check" CHECK ("predictions"."label" in (0, 1))
);
--> statement-breakpoint
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE VIEW "public"."image_summary" AS (
  select r.experiment_id, r.model, p.split, p.image, p.label, count(*)::integer as n,
         (count(*) filter (where (p.probability > 0.5) <> (p.label = 1)))::integer as wrong,
         avg(p.probability::double precision) as mean_probability,
         stddev_samp(p.probability::double precision) as std_probability
  from predictions p
  join runs r on r.id = p.run_id
  where r.status = 'completed'
  group by r.experiment_id, r.model, p.split, p.image, p.label
);
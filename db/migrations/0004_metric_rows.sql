CREATE TABLE "epoch_metric_values" (
	"run_id" integer NOT NULL,
	"epoch" integer NOT NULL,
	"split" text NOT NULL,
	"metric" text NOT NULL,
	"value" double precision NOT NULL,
	CONSTRAINT "epoch_metric_values_pkey" PRIMARY KEY("run_id","epoch","split","metric"),
	CONSTRAINT "epoch_metric_values_split_check" CHECK ("epoch_metric_values"."split" in ('train', 'val'))
);
--> statement-breakpoint
CREATE TABLE "epochs" (
	"run_id" integer NOT NULL,
	"epoch" integer NOT NULL,
	"seconds" double precision NOT NULL,
	"learning_rate" double precision NOT NULL,
	"improved" boolean NOT NULL,
	CONSTRAINT "epochs_pkey" PRIMARY KEY("run_id","epoch")
);
--> statement-breakpoint
CREATE TABLE "evaluation_metric_values" (
	"run_id" integer NOT NULL,
	"split" text NOT NULL,
	"metric" text NOT NULL,
	"value" double precision NOT NULL,
	CONSTRAINT "evaluation_metric_values_pkey" PRIMARY KEY("run_id","split","metric")
);
--> statement-breakpoint
ALTER TABLE "epoch_metric_values" ADD CONSTRAINT "epoch_metric_values_epoch_fk" FOREIGN KEY ("run_id","epoch") REFERENCES "public"."epochs"("run_id","epoch") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "epochs" ADD CONSTRAINT "epochs_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_metric_values" ADD CONSTRAINT "evaluation_metric_values_evaluation_fk" FOREIGN KEY ("run_id","split") REFERENCES "public"."evaluations"("run_id","split") ON DELETE cascade ON UPDATE no action;
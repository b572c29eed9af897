CREATE TABLE "curve_points" (
	"run_id" integer NOT NULL,
	"split" text NOT NULL,
	"kind" text NOT NULL,
	"idx" integer NOT NULL,
	"x" double precision NOT NULL,
	"y" double precision NOT NULL,
	"threshold" double precision NOT NULL,
	CONSTRAINT "curve_points_pkey" PRIMARY KEY("run_id","split","kind","idx"),
	CONSTRAINT "curve_points_kind_check" CHECK ("curve_points"."kind" in ('roc', 'pr'))
);
--> statement-breakpoint
CREATE TABLE "epoch_metrics" (
	"run_id" integer NOT NULL,
	"epoch" integer NOT NULL,
	"split" text NOT NULL,
	"loss" double precision NOT NULL,
	"accuracy" double precision NOT NULL,
	"precision" double precision NOT NULL,
	"recall" double precision NOT NULL,
	"roc_auc" double precision NOT NULL,
	"pr_auc" double precision NOT NULL,
	"seconds" double precision NOT NULL,
	"learning_rate" double precision NOT NULL,
	"improved" boolean NOT NULL,
	CONSTRAINT "epoch_metrics_pkey" PRIMARY KEY("run_id","epoch","split"),
	CONSTRAINT "epoch_metrics_split_check" CHECK ("epoch_metrics"."split" in ('train', 'val'))
);
--> statement-breakpoint
CREATE TABLE "evaluations" (
	"run_id" integer NOT NULL,
	"split" text NOT NULL,
	"n" integer NOT NULL,
	"loss" double precision NOT NULL,
	"accuracy" double precision NOT NULL,
	"precision" double precision NOT NULL,
	"recall" double precision NOT NULL,
	"roc_auc" double precision NOT NULL,
	"pr_auc" double precision NOT NULL,
	"tp" integer NOT NULL,
	"fp" integer NOT NULL,
	"tn" integer NOT NULL,
	"fn" integer NOT NULL,
	CONSTRAINT "evaluations_pkey" PRIMARY KEY("run_id","split"),
	CONSTRAINT "evaluations_split_check" CHECK ("evaluations"."split" in ('train', 'val', 'test'))
);
--> statement-breakpoint
CREATE TABLE "experiments" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "experiments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"config" jsonb NOT NULL,
	"dataset_fingerprint" text,
	"dataset_dir" text,
	"code_version" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "experiments_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "run_logs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "run_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"run_id" integer NOT NULL,
	"attempt" integer NOT NULL,
	"logged_at" timestamp with time zone DEFAULT now() NOT NULL,
	"message" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"experiment_id" integer NOT NULL,
	"model" text NOT NULL,
	"run_index" integer NOT NULL,
	"base_run_id" integer,
	"status" text DEFAULT 'pending' NOT NULL,
	"seed" integer NOT NULL,
	"spec" jsonb NOT NULL,
	"slot" text,
	"backend" text,
	"backend_detail" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"last_event_at" timestamp with time zone,
	"duration_seconds" double precision,
	"best_epoch" integer,
	"stopped_early" boolean,
	"checkpoint_dir" text,
	"params_total" integer,
	"params_trainable" integer,
	CONSTRAINT "runs_experiment_model_run_index_key" UNIQUE("experiment_id","model","run_index"),
	CONSTRAINT "runs_status_check" CHECK ("runs"."status" in ('pending', 'running', 'completed', 'failed', 'interrupted'))
);
--> statement-breakpoint
ALTER TABLE "curve_points" ADD CONSTRAINT "curve_points_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "epoch_metrics" ADD CONSTRAINT "epoch_metrics_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluations" ADD CONSTRAINT "evaluations_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_logs" ADD CONSTRAINT "run_logs_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_experiment_id_experiments_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_base_run_id_runs_id_fk" FOREIGN KEY ("base_run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "run_logs_run_id_idx" ON "run_logs" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "runs_experiment_status_idx" ON "runs" USING btree ("experiment_id","status");--> statement-breakpoint
CREATE VIEW "public"."metric_summary" AS (
  select r.experiment_id, e.name as experiment, r.model, ev.split, m.metric,
         count(*)::integer as n, avg(m.value) as mean, stddev_samp(m.value) as stddev,
         min(m.value) as min, max(m.value) as max
  from evaluations ev
  join runs r on r.id = ev.run_id
  join experiments e on e.id = r.experiment_id
  cross join lateral (values
    ('loss', ev.loss), ('accuracy', ev.accuracy), ('precision', ev.precision),
    ('recall', ev.recall), ('roc_auc', ev.roc_auc), ('pr_auc', ev.pr_auc)
  ) as m(metric, value)
  where r.status = 'completed'
  group by r.experiment_id, e.name, r.model, ev.split, m.metric
);--> statement-breakpoint
CREATE VIEW "public"."metric_summary_wide" AS (
  select r.experiment_id, e.name as experiment, r.model, ev.split, count(*)::integer as n,
         avg(ev.loss) as loss_mean, stddev_samp(ev.loss) as loss_std,
         avg(ev.accuracy) as accuracy_mean, stddev_samp(ev.accuracy) as accuracy_std,
         avg(ev.precision) as precision_mean, stddev_samp(ev.precision) as precision_std,
         avg(ev.recall) as recall_mean, stddev_samp(ev.recall) as recall_std,
         avg(ev.roc_auc) as roc_auc_mean, stddev_samp(ev.roc_auc) as roc_auc_std,
         avg(ev.pr_auc) as pr_auc_mean, stddev_samp(ev.pr_auc) as pr_auc_std
  from evaluations ev
  join runs r on r.id = ev.run_id
  join experiments e on e.id = r.experiment_id
  where r.status = 'completed'
  group by r.experiment_id, e.name, r.model, ev.split
);--> statement-breakpoint
CREATE VIEW "public"."run_overview" AS (
  select r.id as run_id, r.experiment_id, e.name as experiment, r.model, r.run_index, r.seed, r.status,
         r.slot, r.backend, r.attempts,
         (select count(*)::integer from epoch_metrics em where em.run_id = r.id and em.split = 'val') as epochs,
         r.best_epoch, r.stopped_early, r.started_at, r.finished_at, r.duration_seconds,
         val.roc_auc as val_roc_auc,
         test.loss as test_loss, test.accuracy as test_accuracy, test.precision as test_precision,
         test.recall as test_recall, test.roc_auc as test_roc_auc, test.pr_auc as test_pr_auc,
         r.error
  from runs r
  join experiments e on e.id = r.experiment_id
  left join evaluations val on val.run_id = r.id and val.split = 'val'
  left join evaluations test on test.run_id = r.id and test.split = 'test'
);
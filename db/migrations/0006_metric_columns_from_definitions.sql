DROP VIEW "public"."metric_summary";--> statement-breakpoint
DROP VIEW "public"."metric_summary_wide";--> statement-breakpoint
DROP VIEW "public"."run_overview";--> statement-breakpoint
ALTER TABLE "epoch_metrics" ALTER COLUMN "loss" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "epoch_metrics" ALTER COLUMN "accuracy" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "epoch_metrics" ALTER COLUMN "precision" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "epoch_metrics" ALTER COLUMN "recall" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "epoch_metrics" ALTER COLUMN "roc_auc" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "epoch_metrics" ALTER COLUMN "pr_auc" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "evaluations" ALTER COLUMN "loss" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "evaluations" ALTER COLUMN "accuracy" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "evaluations" ALTER COLUMN "precision" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "evaluations" ALTER COLUMN "recall" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "evaluations" ALTER COLUMN "roc_auc" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "evaluations" ALTER COLUMN "pr_auc" DROP NOT NULL;--> statement-breakpoint
CREATE VIEW "public"."metric_summary" AS (
  select r.experiment_id, e.name as experiment, r.model, ev.split, m.metric,
         count(*)::integer as n, avg(m.value) as mean, stddev_samp(m.value) as stddev,
         min(m.value) as min, max(m.value) as max
  from evaluations ev
  join runs r on r.id = ev.run_id
  join experiments e on e.id = r.experiment_id
  cross join lateral (values ('loss', ev."loss"), ('accuracy', ev."accuracy"), ('precision', ev."precision"), ('recall', ev."recall"), ('roc_auc', ev."roc_auc"), ('pr_auc', ev."pr_auc")) as m(metric, value)
  where r.status = 'completed' and m.value is not null
  group by r.experiment_id, e.name, r.model, ev.split, m.metric
);--> statement-breakpoint
CREATE VIEW "public"."metric_summary_wide" AS (
  select r.experiment_id, e.name as experiment, r.model, ev.split, count(*)::integer as n,
         avg(ev."loss") as "loss_mean", stddev_samp(ev."loss") as "loss_std",
         avg(ev."accuracy") as "accuracy_mean", stddev_samp(ev."accuracy") as "accuracy_std",
         avg(ev."precision") as "precision_mean", stddev_samp(ev."precision") as "precision_std",
         avg(ev."recall") as "recall_mean", stddev_samp(ev."recall") as "recall_std",
         avg(ev."roc_auc") as "roc_auc_mean", stddev_samp(ev."roc_auc") as "roc_auc_std",
         avg(ev."pr_auc") as "pr_auc_mean", stddev_samp(ev."pr_auc") as "pr_auc_std"
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
         test."loss" as "test_loss", test."accuracy" as "test_accuracy", test."precision" as "test_precision", test."recall" as "test_recall", test."roc_auc" as "test_roc_auc", test."pr_auc" as "test_pr_auc",
         r.error
  from runs r
  join experiments e on e.id = r.experiment_id
  left join evaluations val on val.run_id = r.id and val.split = 'val'
  left join evaluations test on test.run_id = r.id and test.split = 'test'
);
DROP VIEW "public"."metric_summary_wide";--> statement-breakpoint
DROP VIEW "public"."run_overview";--> statement-breakpoint
CREATE VIEW "public"."metric_summary_wide" AS (
  select r.experiment_id, e.name as experiment, r.model, v.split, count(distinct v.run_id)::integer as n,
         avg(v.value) filter (where v.metric = 'loss') as loss_mean, stddev_samp(v.value) filter (where v.metric = 'loss') as loss_std,
         avg(v.value) filter (where v.metric = 'accuracy') as accuracy_mean, stddev_samp(v.value) filter (where v.metric = 'accuracy') as accuracy_std,
         avg(v.value) filter (where v.metric = 'precision') as precision_mean, stddev_samp(v.value) filter (where v.metric = 'precision') as precision_std,
         avg(v.value) filter (where v.metric = 'recall') as recall_mean, stddev_samp(v.value) filter (where v.metric = 'recall') as recall_std,
         avg(v.value) filter (where v.metric = 'specificity') as specificity_mean, stddev_samp(v.value) filter (where v.metric = 'specificity') as specificity_std,
         avg(v.value) filter (where v.metric = 'roc_auc') as roc_auc_mean, stddev_samp(v.value) filter (where v.metric = 'roc_auc') as roc_auc_std,
         avg(v.value) filter (where v.metric = 'pr_auc') as pr_auc_mean, stddev_samp(v.value) filter (where v.metric = 'pr_auc') as pr_auc_std
  from evaluation_metric_values v
  join runs r on r.id = v.run_id
  join experiments e on e.id = r.experiment_id
  where r.status = 'completed'
  group by r.experiment_id, e.name, r.model, v.split
);--> statement-breakpoint
CREATE VIEW "public"."run_overview" AS (
  select r.id as run_id, r.experiment_id, e.name as experiment, r.model, r.run_index, r.seed, r.status,
         r.slot, r.backend, r.attempts,
         (select count(*)::integer from epochs ep where ep.run_id = r.id) as epochs,
         r.best_epoch, r.stopped_early, r.started_at, r.finished_at, r.duration_seconds,
         (select v.value from evaluation_metric_values v where v.run_id = r.id and v.split = 'val' and v.metric = 'roc_auc') as val_roc_auc,
         test.test_loss, test.test_accuracy, test.test_precision, test.test_recall, test.test_specificity, test.test_roc_auc, test.test_pr_auc,
         r.error
  from runs r
  join experiments e on e.id = r.experiment_id
  left join lateral (
    select max(v.value) filter (where v.metric = 'loss') as test_loss,
           max(v.value) filter (where v.metric = 'accuracy') as test_accuracy,
           max(v.value) filter (where v.metric = 'precision') as test_precision,
           max(v.value) filter (where v.metric = 'recall') as test_recall,
           max(v.value) filter (where v.metric = 'specificity') as test_specificity,
           max(v.value) filter (where v.metric = 'roc_auc') as test_roc_auc,
           max(v.value) filter (where v.metric = 'pr_auc') as test_pr_auc
    from evaluation_metric_values v where v.run_id = r.id and v.split = 'test'
  ) test on true
);
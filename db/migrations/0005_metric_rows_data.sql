-- The metrics of every stored epoch and final evaluation move from one column per metric (the six columns of
-- epoch_metrics and evaluations, which the next migration drops) to one row per metric. An epoch's seconds,
-- learning rate and improvement, stored on both its train and its val row, become one row of epochs: the val
-- row's (an improvement is the val ROC AUC's), or the train row's where the epoch has no val row.
INSERT INTO "epochs" ("run_id", "epoch", "seconds", "learning_rate", "improved")
SELECT DISTINCT ON ("run_id", "epoch") "run_id", "epoch", "seconds", "learning_rate", "improved"
FROM "epoch_metrics"
ORDER BY "run_id", "epoch", "split" = 'val' DESC;
--> statement-breakpoint
INSERT INTO "epoch_metric_values" ("run_id", "epoch", "split", "metric", "value")
SELECT em."run_id", em."epoch", em."split", m."metric", m."value"
FROM "epoch_metrics" em
CROSS JOIN LATERAL (VALUES
  ('loss', em."loss"), ('accuracy', em."accuracy"), ('precision', em."precision"),
  ('recall', em."recall"), ('roc_auc', em."roc_auc"), ('pr_auc', em."pr_auc")
) AS m("metric", "value");
--> statement-breakpoint
INSERT INTO "evaluation_metric_values" ("run_id", "split", "metric", "value")
SELECT ev."run_id", ev."split", m."metric", m."value"
FROM "evaluations" ev
CROSS JOIN LATERAL (VALUES
  ('loss', ev."loss"), ('accuracy', ev."accuracy"), ('precision', ev."precision"),
  ('recall', ev."recall"), ('roc_auc', ev."roc_auc"), ('pr_auc', ev."pr_auc")
) AS m("metric", "value");

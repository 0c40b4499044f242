-- The group-sequential test of the analysis (experiments/analysis/evaluate.ts) takes one look
-- per recorded run; each run records its look per comparison here, and the next run reads the
-- looks back (store.ts readSequentialLooks) to replay the alpha-spending design over them.
-- sequential_method: 'group-sequential' (there is a sample-size plan) or 'msprt' (the fallback
-- without one); '' for rows with no sequential test. look_units is the harmonic mean of the
-- two cells' n (the look's information fraction is look_units / planned n); look_units,
-- look_difference and look_variance are NULL when the run was not a look of that comparison
-- (too little new information since the last look, or the design had already ended).
ALTER TABLE {db}.experiment_results ADD COLUMN IF NOT EXISTS sequential_method LowCardinality(String) DEFAULT '' AFTER sequential_ci_upper;
ALTER TABLE {db}.experiment_results ADD COLUMN IF NOT EXISTS look_units Nullable(Float64) AFTER sequential_method;
ALTER TABLE {db}.experiment_results ADD COLUMN IF NOT EXISTS look_difference Nullable(Float64) AFTER look_units;
ALTER TABLE {db}.experiment_results ADD COLUMN IF NOT EXISTS look_variance Nullable(Float64) AFTER look_difference;

package agg_test

import (
	"math"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func miscValue(t testing.TB, s string) any {
	t.Helper()
	var d bson.D
	require.NoError(t, bson.UnmarshalExtJSON([]byte(`{"v": `+s+`}`), false, &d))
	return d[0].Value
}

// runDocs runs a pipeline over docs given as extended JSON, with user variables.
func miscRun(t *testing.T, pipeline, docs string, vars map[string]any) ([]bson.D, error) {
	t.Helper()
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	p, err := agg.Compile(miscValue(t, pipeline).(bson.A), agg.Options{DB: "db", Vars: names})
	if err != nil {
		return nil, err
	}
	var in []bson.D
	for _, d := range miscValue(t, docs).(bson.A) {
		in = append(in, d.(bson.D))
	}
	return agg.Collect(p.RunOn(&agg.Context{Env: &expr.Env{Vars: vars}, DB: "db"}, in))
}

func miscRequire(t *testing.T, want string, got []bson.D) {
	t.Helper()
	arr := bson.A{}
	for _, d := range got {
		arr = append(arr, d)
	}
	require.Truef(t, conformance.Same(miscValue(t, want), arr), "want %s\n got %s", want, conformance.Show(arr))
}

func TestBucketWithVariables(t *testing.T) {
	out, err := miscRun(t, `[{"$bucket": {"groupBy": {"$multiply": ["$v", "$$k"]}, "boundaries": [0, 10, 1000], "output": {"ids": {"$push": "$_id"}, "k": {"$max": "$$k"}}}}]`,
		`[{"_id": 1, "v": 1}, {"_id": 2, "v": 3}, {"_id": 3, "v": 20}]`, map[string]any{"k": int32(5)})
	require.NoError(t, err)
	miscRequire(t, `[{"_id": 0, "ids": [1], "k": 5}, {"_id": 10, "ids": [2, 3], "k": 5}]`, out)
}

func TestBucketAutoFeedsAccumulatorsInInputOrder(t *testing.T) {
	// Within a bucket, order-sensitive accumulators see the documents in input order (as
	// MongoDB 8 does), not in the order of the groupBy values.
	out, err := miscRun(t, `[{"$bucketAuto": {"groupBy": "$v", "buckets": 1, "output": {"ids": {"$push": "$_id"}, "first": {"$first": "$_id"}, "last": {"$last": "$_id"}}}}]`,
		`[{"_id": "c", "v": 3}, {"_id": "a", "v": 1}, {"_id": "b", "v": 2}]`, nil)
	require.NoError(t, err)
	miscRequire(t, `[{"_id": {"min": 1, "max": 3}, "ids": ["c", "a", "b"], "first": "c", "last": "b"}]`, out)
}

func TestBucketAutoGranularityZero(t *testing.T) {
	// A first bucket whose largest value is 0 ends at the next value rounded down.
	out, err := miscRun(t, `[{"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "R5"}}]`,
		`[{"_id": 1, "v": 0}, {"_id": 2, "v": 0}, {"_id": 3, "v": 1}, {"_id": 4, "v": 2}]`, nil)
	require.NoError(t, err)
	miscRequire(t, `[{"_id": {"min": 0, "max": 0.63}, "count": 2}, {"_id": {"min": 0.63, "max": 2.5}, "count": 2}]`, out)

	// Infinity is a valid key; rounding it must terminate.
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err = agg.Collect(miscCompile(t, `[{"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "E24"}}]`).RunOn(&agg.Context{Env: &expr.Env{}},
			[]bson.D{{{Key: "v", Value: math.Inf(1)}}, {{Key: "v", Value: 5.0}}}))
	}()
	select {
	case <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("rounding infinity did not terminate")
	}
}

func miscCompile(t *testing.T, pipeline string) *agg.Pipeline {
	t.Helper()
	p, err := agg.Compile(miscValue(t, pipeline).(bson.A), agg.Options{DB: "db"})
	require.NoError(t, err)
	return p
}

func TestBucketAutoGranularitySeries(t *testing.T) {
	docs := `[{"v": 3}, {"v": 14}, {"v": 150}, {"v": 700}]`
	for g, want := range map[string]string{
		"E6":  `[{"_id": {"min": 2.2, "max": 15.0}, "count": 2}, {"_id": {"min": 15.0, "max": 1000.0}, "count": 2}]`,
		"E12": `[{"_id": {"min": 2.7, "max": 15.0}, "count": 2}, {"_id": {"min": 15.0, "max": 820.0}, "count": 2}]`,
		"R10": `[{"_id": {"min": 2.5, "max": 16.0}, "count": 2}, {"_id": {"min": 16.0, "max": 800.0}, "count": 2}]`,
		// 142 × 0.1 in double arithmetic, as mongod computes it.
		"E192": `[{"_id": {"min": 2.98, "max": 14.200000000000001}, "count": 2}, {"_id": {"min": 14.200000000000001, "max": 706.0}, "count": 2}]`,
	} {
		out, err := miscRun(t, `[{"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "`+g+`"}}]`, docs, nil)
		require.NoError(t, err, g)
		miscRequire(t, want, out)
	}
}

func TestBucketAutoErrorsAtRunTime(t *testing.T) {
	_, err := miscRun(t, `[{"$bucketAuto": {"groupBy": {"$toInt": "$v"}, "buckets": 2}}]`, `[{"v": "x"}]`, nil)
	require.True(t, mongoerr.HasCode(err, mongoerr.ConversionFailure), "%v", err)
	_, err = miscRun(t, `[{"$bucket": {"groupBy": {"$toInt": "$v"}, "boundaries": [0, 1]}}]`, `[{"v": "x"}]`, nil)
	require.True(t, mongoerr.HasCode(err, mongoerr.ConversionFailure), "%v", err)
	_, err = miscRun(t, `[{"$bucketAuto": {"groupBy": "$v", "buckets": 2, "output": {"_id": {"$sum": 1}}}}]`, `[]`, nil)
	require.True(t, mongoerr.HasCode(err, 15948), "%v", err)
	_, err = miscRun(t, `[{"$bucketAuto": {"groupBy": "$v", "buckets": {"$numberLong": "4294967296"}}}]`, `[]`, nil)
	require.True(t, mongoerr.HasCode(err, 40242), "%v", err)
}

// BenchmarkBucket100k: $bucket and $bucketAuto over 100k documents.
func BenchmarkBucket100k(b *testing.B) {
	s, c := sortSource(b, 100_000)
	ctx := &agg.Context{Env: &expr.Env{}, Store: s, DB: "db"}
	for name, stage := range map[string]string{
		"bucket":     `{"$bucket": {"groupBy": "$k", "boundaries": [0, 1000, 10000, 100000, 1000000], "output": {"n": {"$sum": 1}, "avg": {"$avg": "$k"}}}}`,
		"bucketAuto": `{"$bucketAuto": {"groupBy": "$k", "buckets": 10}}`,
	} {
		p := miscCompileB(b, `[`+stage+`]`)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := agg.Collect(p.Run(ctx, c)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func miscCompileB(b *testing.B, pipeline string) *agg.Pipeline {
	p, err := agg.Compile(miscValue(b, pipeline).(bson.A), agg.Options{DB: "db"})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

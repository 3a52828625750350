package agg_test

import (
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestPipelineConformance runs every conformance case that has a pipeline directly on the
// pipeline code: the case's documents and collections go into an in-memory store, no
// server or driver involved. The driver-level suite runs the same cases end to end.
func TestPipelineConformance(t *testing.T) {
	ran := 0
	for _, file := range conformance.Files() {
		cases, err := conformance.Load(file)
		require.NoError(t, err)
		for _, c := range cases {
			if c.Pipeline == nil {
				continue
			}
			ran++
			t.Run(file+"/"+c.Name, func(t *testing.T) { runPipelineCase(t, c) })
		}
	}
	require.NotZero(t, ran)
}

func load(t *testing.T, s *storage.Store, name string, docs []bson.D) *storage.Collection {
	c, err := s.Create("db", name, nil)
	require.NoError(t, err)
	require.NoError(t, c.Write(func(tx *storage.Tx) error {
		for _, d := range docs {
			d, raw, err := storage.PrepareDocument(d, nil)
			if err != nil {
				return err
			}
			if _, err := tx.Insert(d, raw, storage.WriteOptions{}); err != nil {
				return err
			}
		}
		return nil
	}))
	return c
}

func runPipelineCase(t *testing.T, c conformance.Case) {
	s := storage.New()
	coll := load(t, s, "c", c.Docs)
	for name, docs := range c.Collections {
		load(t, s, name, docs)
	}
	got, err := func() ([]bson.D, error) {
		p, err := agg.Compile(c.Pipeline, agg.Options{DB: "db"})
		if err != nil {
			return nil, err
		}
		env := &expr.Env{Now: bson.DateTime(1577836800000)}
		return agg.Collect(p.Run(&agg.Context{Env: env, Store: s, DB: "db"}, coll))
	}()
	if c.Error != 0 {
		require.Errorf(t, err, "want error %d", c.Error)
		require.Truef(t, mongoerr.HasCode(err, c.Error), "want code %d, got %v", c.Error, err)
		return
	}
	require.NoError(t, err)
	want, _ := c.Expect.(bson.A)
	gotA := make(bson.A, len(got))
	for i, d := range got {
		gotA[i] = d
	}
	if c.Unordered {
		require.Len(t, gotA, len(want))
		used := make([]bool, len(gotA))
	next:
		for _, w := range want {
			for i, g := range gotA {
				if !used[i] && conformance.Same(w, g) {
					used[i] = true
					continue next
				}
			}
			t.Fatalf("expected %s in %s", conformance.Show(w), conformance.Show(gotA))
		}
		return
	}
	require.Truef(t, conformance.Same(want, gotA), "want %s\n got %s", conformance.Show(want), conformance.Show(gotA))
}

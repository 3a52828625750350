// Package conformance holds the embedded server's conformance cases: behaviour written
// down from the MongoDB manual as data (extended JSON in testdata/), so the same cases run
// as unit tests of the engine's packages and, through the official driver, against
// mongotest or a real MongoDB (see conformance_test.go).
//
// Files are JSON objects {"cases": [...]} parsed as relaxed extended JSON: 1 is an int32,
// 1.0 a double, {"$numberLong": "1"} an int64, {"$numberDecimal": "1"} a decimal128.
package conformance

import (
	"embed"
	"fmt"
	"path"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

//go:embed testdata/*.json
var files embed.FS

// Case is one conformance case. Which fields are used depends on the file's kind.
type Case struct {
	// File is the testdata file the case came from; Name describes the case.
	File, Name string
	// Docs are inserted into the collection before the operation.
	Docs []bson.D
	// Collections holds further collections by name (for $lookup and the like).
	Collections map[string][]bson.D

	Filter       bson.D
	Sort         bson.D
	Projection   bson.D
	Update       any // an operator document or a pipeline (bson.A)
	ArrayFilters []bson.D
	Upsert       bool
	Multi        bool
	Pipeline     bson.A
	Expr         any

	// IDs are the _id values the operation returns, in order (queries sort by _id unless
	// the case gives a sort).
	IDs bson.A
	// Expect is the expected result: the documents returned (find, aggregate), the whole
	// collection afterwards (update), or the value of Expr (expression cases).
	Expect any
	// Unordered means Expect's documents may come in any order.
	Unordered bool
	// Missing means Expr evaluates to missing (the field is absent from the output).
	Missing bool
	// Error is the expected error code; 0 means the operation succeeds.
	Error int32
	// Matched, Modified and Upserted are the counts an update reports, when set.
	Matched, Modified *int32
	Upserted          bool
}

// Load reads the cases of one testdata file, such as "query.json".
func Load(name string) ([]Case, error) {
	raw, err := files.ReadFile(path.Join("testdata", name))
	if err != nil {
		return nil, err
	}
	var top bson.D
	if err := bson.UnmarshalExtJSON(raw, false, &top); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	list, ok := get(top, "cases").(bson.A)
	if !ok {
		return nil, fmt.Errorf("%s: no \"cases\" array", name)
	}
	out := make([]Case, 0, len(list))
	for i, item := range list {
		d, ok := item.(bson.D)
		if !ok {
			return nil, fmt.Errorf("%s: case %d is not an object", name, i)
		}
		c, err := parseCase(d)
		if err != nil {
			return nil, fmt.Errorf("%s: case %d (%v): %w", name, i, get(d, "name"), err)
		}
		c.File = name
		out = append(out, c)
	}
	return out, nil
}

// Files lists the testdata files.
func Files() []string {
	entries, _ := files.ReadDir("testdata")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

var known = []string{"name", "docs", "collections", "filter", "sort", "projection", "update",
	"arrayFilters", "upsert", "multi", "pipeline", "expr", "ids", "expect", "unordered",
	"missing", "error", "matched", "modified", "upserted", "note"}

func parseCase(d bson.D) (Case, error) {
	var c Case
	for _, e := range d {
		if !slices.Contains(known, e.Key) {
			return c, fmt.Errorf("unknown key %q", e.Key)
		}
	}
	var err error
	c.Name, _ = get(d, "name").(string)
	if c.Name == "" {
		return c, fmt.Errorf("missing name")
	}
	if c.Docs, err = docs(get(d, "docs")); err != nil {
		return c, fmt.Errorf("docs: %w", err)
	}
	if colls, ok := get(d, "collections").(bson.D); ok {
		c.Collections = map[string][]bson.D{}
		for _, e := range colls {
			if c.Collections[e.Key], err = docs(e.Value); err != nil {
				return c, fmt.Errorf("collections.%s: %w", e.Key, err)
			}
		}
	}
	c.Filter, _ = get(d, "filter").(bson.D)
	c.Sort, _ = get(d, "sort").(bson.D)
	c.Projection, _ = get(d, "projection").(bson.D)
	c.Update = get(d, "update")
	if c.ArrayFilters, err = docs(get(d, "arrayFilters")); err != nil {
		return c, fmt.Errorf("arrayFilters: %w", err)
	}
	c.Upsert, _ = get(d, "upsert").(bool)
	c.Multi, _ = get(d, "multi").(bool)
	c.Pipeline, _ = get(d, "pipeline").(bson.A)
	c.Expr = get(d, "expr")
	c.IDs, _ = get(d, "ids").(bson.A)
	c.Expect = get(d, "expect")
	c.Unordered, _ = get(d, "unordered").(bool)
	c.Missing, _ = get(d, "missing").(bool)
	c.Upserted, _ = get(d, "upserted").(bool)
	if v, ok := get(d, "error").(int32); ok {
		c.Error = v
	}
	if v, ok := get(d, "matched").(int32); ok {
		c.Matched = &v
	}
	if v, ok := get(d, "modified").(int32); ok {
		c.Modified = &v
	}
	return c, nil
}

func get(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

func docs(v any) ([]bson.D, error) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.(bson.A)
	if !ok {
		return nil, fmt.Errorf("not an array")
	}
	out := make([]bson.D, len(arr))
	for i, x := range arr {
		if out[i], ok = x.(bson.D); !ok {
			return nil, fmt.Errorf("item %d is not an object", i)
		}
	}
	return out, nil
}

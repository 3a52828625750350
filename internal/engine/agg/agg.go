// Package agg runs aggregation pipelines. A pipeline is a chain of stages over a stream
// of documents (push iterators, so $limit stops the stages before it early); blocking
// stages such as $sort collect their input. Stages live in a registry filled by the
// files of this package, one file per family.
//
// Invariant: a stage never modifies a document it receives (they may be stored records
// shared with other readers); it builds new documents and may share unchanged
// sub-values with its input.
package agg

import (
	"iter"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Stream is a sequence of documents flowing between stages. An error ends it.
type Stream = iter.Seq2[bson.D, error]

// Context is what a running pipeline needs.
type Context struct {
	Env   *expr.Env
	Store *storage.Store
	// DB is the database the pipeline runs in (for $lookup, $unionWith, $out, …).
	DB string
}

// Options configure compilation.
type Options struct {
	// Vars names the user variables (without "$$") expressions may reference.
	Vars []string
	// DB is the database the pipeline runs in.
	DB string
	// ForUpdate restricts the stages to those an update pipeline allows.
	ForUpdate bool
	// Nested marks a sub-pipeline ($lookup, $facet, $unionWith), where some stages
	// ($out, $merge) are not allowed.
	Nested bool
}

// stage is one compiled stage.
type stage interface {
	run(c *Context, in Stream) Stream
}

// parseFunc compiles the argument of one stage.
type parseFunc func(spec any, o *Options) (stage, error)

// stages maps "$name" to its parser.
var stages = map[string]parseFunc{}

func register(name string, p parseFunc) {
	if _, dup := stages[name]; dup {
		panic("agg: stage registered twice: " + name)
	}
	stages[name] = p
}

// updateStages are the stages an update pipeline may use.
var updateStages = map[string]bool{
	"$addFields": true, "$set": true, "$project": true, "$unset": true,
	"$replaceRoot": true, "$replaceWith": true,
}

// Pipeline is a compiled pipeline. It is immutable and safe for concurrent use.
type Pipeline struct {
	stages []stage
	// source is the leading $match, run through the collection's indexes.
	source       *matchStage
	sourceFilter bson.D
	// sourceLimit bounds the documents the source must produce, when the stages right
	// after the $match allow (a $limit, with no stage that changes the count before it).
	sourceLimit int
	// first names the pipeline's first stage, for stages that must come first.
	first string
}

// Compile parses a pipeline.
func Compile(pipeline bson.A, o Options) (*Pipeline, error) {
	p := &Pipeline{}
	for i, raw := range pipeline {
		spec, ok := raw.(bson.D)
		if !ok || len(spec) != 1 {
			return nil, mongoerr.Newf(40323, "A pipeline stage specification object must contain exactly one field.")
		}
		name := spec[0].Key
		if i == 0 {
			p.first = name
		}
		if o.ForUpdate && !updateStages[name] {
			return nil, mongoerr.Newf(mongoerr.InvalidOptions, "%s is not allowed to be used within an update", name)
		}
		parse, ok := stages[name]
		if !ok {
			return nil, mongoerr.Newf(mongoerr.UnknownStage, "Unrecognized pipeline stage name: '%s'", name)
		}
		st, err := parse(spec[0].Value, &o)
		if err != nil {
			return nil, err
		}
		if fs, ok := st.(firstStage); ok && i != 0 {
			return nil, mongoerr.Newf(40602, "%s is only valid as the first stage in a pipeline", fs.name())
		}
		if ls, ok := st.(lastStage); ok && i != len(pipeline)-1 {
			return nil, mongoerr.Newf(40601, "%s can only be the final stage in the pipeline", ls.name())
		}
		p.stages = append(p.stages, st)
	}
	p.optimize()
	return p, nil
}

// firstStage is implemented by stages that must open a pipeline ($documents, …).
type firstStage interface{ name() string }

// lastStage is implemented by stages that must end a pipeline ($out, $merge).
type lastStage interface {
	lastOnly()
	name() string
}

// optimize fuses stages: a leading $match becomes an index-driven source, and a $sort
// followed by a $limit keeps only the top k documents instead of sorting everything.
func (p *Pipeline) optimize() {
	for i := 0; i+1 < len(p.stages); i++ {
		s, isSort := p.stages[i].(*sortStage)
		l, isLimit := p.stages[i+1].(*limitStage)
		if isSort && isLimit {
			s.limit = minLimit(s.limit, l.n)
		}
	}
	if len(p.stages) > 0 {
		if m, ok := p.stages[0].(*matchStage); ok {
			p.source, p.sourceFilter = m, m.filter
			p.stages = p.stages[1:]
			if len(p.stages) > 0 {
				if l, ok := p.stages[0].(*limitStage); ok {
					p.sourceLimit = int(l.n)
				}
			}
		}
	}
}

func minLimit(a, b int64) int64 {
	if a == 0 || b < a {
		return b
	}
	return a
}

// Run evaluates the pipeline over coll (nil for an empty or collection-less input).
func (p *Pipeline) Run(c *Context, coll *storage.Collection) Stream {
	var in Stream
	switch {
	case coll == nil:
		in = p.emptySource()
	default:
		in = p.collectionSource(c, coll)
	}
	for _, st := range p.stages {
		in = st.run(c, in)
	}
	return in
}

// RunOn evaluates the pipeline over the given documents.
func (p *Pipeline) RunOn(c *Context, docs []bson.D) Stream {
	in := Stream(func(yield func(bson.D, error) bool) {
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	})
	if p.source != nil {
		in = p.source.run(c, in)
	}
	for _, st := range p.stages {
		in = st.run(c, in)
	}
	return in
}

func (p *Pipeline) emptySource() Stream {
	if p.source != nil {
		return func(func(bson.D, error) bool) {}
	}
	return func(func(bson.D, error) bool) {}
}

// collectionSource reads the collection, through an index when the leading $match
// allows. The matching records are collected under the collection's read lock; they are
// immutable, so the rest of the pipeline runs without holding it.
func (p *Pipeline) collectionSource(c *Context, coll *storage.Collection) Stream {
	return func(yield func(bson.D, error) bool) {
		q := &storage.Query{Limit: p.sourceLimit, Env: c.Env}
		if p.source != nil {
			q.Filter, q.Matcher = p.sourceFilter, p.source.m
		}
		var hits []storage.Hit
		err := coll.Read(func(tx *storage.Tx) error {
			var err error
			hits, _, err = tx.Find(q)
			return err
		})
		if err != nil {
			yield(nil, err)
			return
		}
		for _, h := range hits {
			if !yield(h.Rec.Doc, nil) {
				return
			}
		}
	}
}

// Collect drains a stream.
func Collect(s Stream) ([]bson.D, error) {
	var out []bson.D
	for d, err := range s {
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// CompileUpdatePipeline compiles the pipeline form of an update.
func CompileUpdatePipeline(pipeline bson.A, vars []string) (*Pipeline, error) {
	return Compile(pipeline, Options{Vars: vars, ForUpdate: true})
}

// ApplyUpdate runs an update pipeline on one document and returns its new version. Like
// a replacement, the result keeps the document's _id when the pipeline drops it, and a
// changed _id is an error.
func (p *Pipeline) ApplyUpdate(env *expr.Env, doc bson.D) (bson.D, error) {
	out, err := Collect(p.RunOn(&Context{Env: env}, []bson.D{doc}))
	if err != nil {
		return nil, err
	}
	if len(out) != 1 {
		return nil, mongoerr.Newf(mongoerr.InternalError, "update pipeline produced %d documents", len(out))
	}
	res := out[0]
	oldID, hadID := value.Lookup(doc, "_id")
	newID, hasID := value.Lookup(res, "_id")
	switch {
	case hasID && hadID && (value.Compare(oldID, newID) != 0 || value.TypeOf(oldID) != value.TypeOf(newID)):
		return nil, mongoerr.Newf(mongoerr.ImmutableField, "After applying the update, the (immutable) field '_id' was found to have been altered to _id: %v", newID)
	case !hasID && hadID:
		res = append(bson.D{{Key: "_id", Value: oldID}}, res...)
	case hasID && res[0].Key != "_id":
		moved := bson.D{{Key: "_id", Value: newID}}
		for _, e := range res {
			if e.Key != "_id" {
				moved = append(moved, e)
			}
		}
		res = moved
	}
	return res, nil
}

// matchStage filters documents.
type matchStage struct {
	filter bson.D
	m      *match.Matcher
}

func (s *matchStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			ok, err := s.m.Match(d, c.Env)
			if err != nil {
				yield(nil, err)
				return
			}
			if ok && !yield(d, nil) {
				return
			}
		}
	}
}

// sortStage sorts its whole input, or keeps the first limit documents with a heap.
type sortStage struct {
	s     *sorter.Sorter
	limit int64
}

func (s *sortStage) run(_ *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		top := sorter.NewTop(s.s, int(s.limit))
		for d, err := range in {
			if err == nil {
				err = top.Push(d)
			}
			if err != nil {
				yield(nil, err)
				return
			}
		}
		for _, d := range top.Result() {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// limitStage passes the first n documents.
type limitStage struct{ n int64 }

func (s *limitStage) run(_ *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		if s.n <= 0 {
			return
		}
		var seen int64
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			seen++
			if !yield(d, nil) || seen >= s.n {
				return
			}
		}
	}
}

// skipStage drops the first n documents.
type skipStage struct{ n int64 }

func (s *skipStage) run(_ *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		var seen int64
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			seen++
			if seen <= s.n {
				continue
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

// mapStage transforms each document; a nil result drops the document.
type mapStage func(c *Context, d bson.D) (bson.D, error)

func (f mapStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		for d, err := range in {
			if err == nil {
				d, err = f(c, d)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if d != nil && !yield(d, nil) {
				return
			}
		}
	}
}

// RunsWithoutCollection reports whether the pipeline produces its own input, as a
// database-level aggregate ({aggregate: 1}) requires.
func (p *Pipeline) RunsWithoutCollection() bool {
	return p.first == "$documents" || p.first == "$currentOp" || p.first == "$listLocalSessions"
}

// Writes reports whether the pipeline writes to a collection ($out, $merge).
func (p *Pipeline) Writes() bool {
	for _, st := range p.stages {
		if _, ok := st.(lastStage); ok {
			return true
		}
	}
	return false
}

// SourcePlan reports how the pipeline reads its collection, for explain: the leading
// $match filter pushed into the collection scan and the limit applied there.
func (p *Pipeline) SourcePlan() (filter bson.D, limit int) {
	return p.sourceFilter, p.sourceLimit
}

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
	"slices"

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
	// within names the stage whose sub-pipeline is being compiled ("$lookup",
	// "$unionWith" or "$facet"): each restricts the stages it may hold differently.
	within string
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
	// names are the pipeline's stage names as written, for the rules of sub-pipelines.
	names []string
	// source is the leading $match, run through the collection's indexes.
	source       *matchStage
	sourceFilter bson.D
	// sourceLimit bounds the documents the source must produce, when the stages right
	// after the $match allow (a $limit, with no stage that changes the count before it).
	sourceLimit int
	// sourceEqs are the equalities between a field and a variable in the leading $match's
	// $expr; each run turns them into plain equalities the planner answers from an index.
	sourceEqs []varEquality
	// first names the pipeline's first stage, for stages that must come first.
	first string
}

// Compile parses a pipeline. As mongod does, it parses every stage before checking the
// pipeline as a whole (stage positions, the stages a sub-pipeline may hold).
func Compile(pipeline bson.A, o Options) (*Pipeline, error) {
	p := &Pipeline{}
	var restricted error
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
		parse, known := stages[name]
		if err := o.restriction(name); err != nil {
			// A stage the sub-pipeline may not hold still parses as it would at the top
			// level, so that a malformed spec reports its own error first.
			if restricted == nil {
				restricted = err
			}
			if known {
				top := o
				top.Nested, top.within = false, ""
				if _, err := parse(spec[0].Value, &top); err != nil {
					return nil, err
				}
			}
			continue
		}
		if !known {
			return nil, mongoerr.Newf(mongoerr.UnknownStage, "Unrecognized pipeline stage name: '%s'", name)
		}
		st, err := parse(spec[0].Value, &o)
		if err != nil {
			return nil, err
		}
		if restricted == nil && o.within == "$facet" {
			if sub, ok := st.(withSubPipelines); ok {
				if banned := bannedInFacet(sub); banned != "" {
					restricted = mongoerr.Newf(40600, "%s inside of %s is not allowed to be used within a $facet stage", banned, name)
				}
			}
		}
		p.stages = append(p.stages, st)
		p.names = append(p.names, name)
	}
	if restricted != nil {
		return nil, restricted
	}
	for i, st := range p.stages {
		if fs, ok := st.(firstStage); ok && i != 0 {
			return nil, mongoerr.Newf(40602, "%s is only valid as the first stage in a pipeline", fs.name())
		}
		if ls, ok := st.(lastStage); ok && i != len(p.stages)-1 {
			return nil, mongoerr.Newf(40601, "%s can only be the final stage in the pipeline", ls.name())
		}
	}
	p.optimize(&o)
	return p, nil
}

// notInFacet are the stages a $facet sub-pipeline may not hold: sources of their own
// input, writers, and $facet itself.
var notInFacet = map[string]bool{
	"$collStats": true, "$facet": true, "$geoNear": true, "$indexStats": true, "$out": true,
	"$merge": true, "$planCacheStats": true, "$search": true, "$searchMeta": true,
	"$vectorSearch": true, "$listSearchIndexes": true, "$documents": true, "$changeStream": true,
	"$currentOp": true, "$listLocalSessions": true, "$listSessions": true,
	"$changeStreamSplitLargeEvent": true,
}

// notInLookupOrUnion are the stages neither a $lookup nor a $unionWith sub-pipeline may
// hold.
var notInLookupOrUnion = map[string]bool{
	"$out": true, "$merge": true, "$changeStream": true, "$changeStreamSplitLargeEvent": true,
}

// restriction returns the error for a stage the sub-pipeline being compiled may not hold.
func (o *Options) restriction(name string) error {
	switch {
	case o.within == "$facet" && notInFacet[name]:
		return mongoerr.Newf(40600, "%s is not allowed to be used within a $facet stage", name)
	case o.within == "$lookup" && notInLookupOrUnion[name]:
		return mongoerr.Newf(51047, "%s is not allowed within a $lookup's sub-pipeline", name)
	case o.within == "$unionWith" && notInLookupOrUnion[name]:
		return mongoerr.Newf(31441, "%s is not allowed within a $unionWith's sub-pipeline", name)
	}
	return nil
}

// sub returns the options for compiling a sub-pipeline of the stage named within, whose
// expressions see the outer variables and extra (a $lookup's let).
func (o *Options) sub(within string, extra ...string) Options {
	vars := o.Vars
	if len(extra) > 0 {
		vars = append(append(make([]string, 0, len(o.Vars)+len(extra)), o.Vars...), extra...)
	}
	return Options{Vars: vars, DB: o.DB, Nested: true, within: within}
}

// withSubPipelines is implemented by stages that run sub-pipelines ($lookup, $unionWith):
// a $facet may not hold them when their sub-pipelines hold a stage $facet forbids.
type withSubPipelines interface{ subPipelines() []*Pipeline }

// bannedInFacet returns the first stage of s's sub-pipelines (at any depth) that a $facet
// may not hold, or "".
func bannedInFacet(s withSubPipelines) string {
	for _, p := range s.subPipelines() {
		if p == nil {
			continue
		}
		for i, name := range p.names {
			if notInFacet[name] {
				return name
			}
			if sub, ok := p.stageAt(i).(withSubPipelines); ok {
				if banned := bannedInFacet(sub); banned != "" {
					return banned
				}
			}
		}
	}
	return ""
}

// stageAt returns the i-th stage as written (optimize may have moved the leading $match
// into the source).
func (p *Pipeline) stageAt(i int) stage {
	if p.source != nil {
		if i == 0 {
			return p.source
		}
		i--
	}
	if i < len(p.stages) {
		return p.stages[i]
	}
	return nil
}

// firstStage is implemented by stages that must open a pipeline ($documents,
// $collStats, $indexStats).
type firstStage interface {
	firstOnly()
	name() string
}

// lastStage is implemented by stages that must end a pipeline ($out, $merge).
type lastStage interface {
	lastOnly()
	name() string
}

// optimize fuses stages: a leading $match becomes an index-driven source, and a $sort
// followed by a $limit keeps only the top k documents instead of sorting everything.
func (p *Pipeline) optimize(o *Options) {
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
			p.sourceEqs = varEqualities(m.filter, o.Vars)
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
	if coll != nil && p.first == "$documents" {
		// $documents makes its own input: mongod refuses it on a collection.
		return errorStream(mongoerr.Newf(mongoerr.InvalidNamespace, "'$documents' can only be run with {aggregate: 1}"))
	}
	return p.run(c, coll, nil)
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

// join restricts one run of a pipeline to the documents matching an extra query: the
// equality a $lookup with localField and foreignField derives from each input document.
type join struct {
	filter  bson.D // the query, for the planner
	matcher *match.Matcher
}

// run evaluates the pipeline over coll (nil: no documents), restricted by j when set.
// A pipeline that opens with $documents makes its own input and ignores coll; the join
// then filters what $documents makes, as mongod places the join's $match right after it.
func (p *Pipeline) run(c *Context, coll *storage.Collection, j *join) Stream {
	var in Stream
	rest := p.stages
	switch {
	case p.first == "$documents" && len(rest) > 0:
		in = rest[0].run(c, emptyStream)
		rest = rest[1:]
		if j != nil {
			in = (&matchStage{filter: j.filter, m: j.matcher}).run(c, in)
		}
	case len(rest) > 0 && isCollectionStage(rest[0]):
		// $collStats and $indexStats report on the collection itself, not its documents.
		in = rest[0].(collectionStage).runCollection(c, coll)
		rest = rest[1:]
	case coll == nil:
		in = emptyStream
	default:
		in = p.collectionSource(c, coll, j)
	}
	for _, st := range rest {
		in = st.run(c, in)
	}
	return in
}

func isCollectionStage(st stage) bool {
	_, ok := st.(collectionStage)
	return ok
}

// emptyStream produces no documents.
func emptyStream(func(bson.D, error) bool) {}

// errorStream fails with err.
func errorStream(err error) Stream {
	return func(yield func(bson.D, error) bool) { yield(nil, err) }
}

// collectionSource reads the collection, through an index when the leading $match (or
// the join) allows. The matching records are collected under the collection's read lock;
// they are immutable, so the rest of the pipeline runs without holding it.
func (p *Pipeline) collectionSource(c *Context, coll *storage.Collection, j *join) Stream {
	return func(yield func(bson.D, error) bool) {
		q := &storage.Query{Env: c.Env, Filter: p.planningFilter(c.Env, j)}
		var after *matchStage
		switch {
		case j != nil:
			// The query checks the join; the leading $match filters what it returns.
			q.Matcher, after = j.matcher, p.source
		case p.source != nil:
			q.Matcher, q.Limit = p.source.m, p.sourceLimit
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
			d := h.Rec.Doc
			if after != nil {
				ok, err := after.m.Match(d, c.Env)
				if err != nil {
					yield(nil, err)
					return
				}
				if !ok {
					continue
				}
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

// planningFilter is the query the planner chooses an index from: the leading $match, the
// join's equality and the variable equalities of the $match's $expr with this run's
// values. Every part is a condition each result satisfies, so their conjunction describes
// a superset of the results, which is all the planner needs.
func (p *Pipeline) planningFilter(env *expr.Env, j *join) bson.D {
	var parts bson.A
	if j != nil {
		parts = append(parts, j.filter)
	}
	if len(p.sourceFilter) > 0 {
		parts = append(parts, p.sourceFilter)
	}
	for _, eq := range p.sourceEqs {
		if cond, ok := eq.condition(env); ok {
			parts = append(parts, cond)
		}
	}
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0].(bson.D)
	}
	return bson.D{{Key: "$and", Value: parts}}
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

// Stages lists every registered stage name ("$match", …), sorted.
func Stages() []string {
	names := make([]string, 0, len(stages))
	for n := range stages {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

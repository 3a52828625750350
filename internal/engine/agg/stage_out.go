package agg

// $out and $merge write the pipeline's results to a collection and output nothing.
//
// $out builds the new content in a temporary collection that has the target's options
// and indexes, then renames it over the target: readers see the old documents or the new
// ones, never a mix, and a failure (a duplicate key, a validation error) leaves the target
// as it was.
//
// $merge applies each result to the target as mongod's update commands would: the "on"
// fields (default _id, otherwise backed by a unique index) locate the matching document,
// whenMatched says what happens to it (replace, keepExisting, merge = $set, fail, or an
// update pipeline seeing the result as $$new) and whenNotMatched whether the result is
// inserted, discarded or an error. The input is read completely before the target is
// locked, so a stage reading the target ($lookup) cannot deadlock with the write.

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/update"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$out", parseOut)
	register("$merge", parseMerge)
}

// internalDBs are the databases $out and $merge may not write to.
var internalDBs = map[string]bool{"admin": true, "local": true, "config": true}

// targetRules are a writing stage's error codes and wording for a bad target.
type targetRules struct {
	stage            string
	invalid          string // message format for an invalid namespace (db, coll)
	cannot           string // "Can't" or "Cannot"
	system, internal int32
}

var (
	outRules   = targetRules{"$out", "Invalid $out target namespace, %s.%s", "Can't", 17385, 31321}
	mergeRules = targetRules{"$merge", "Invalid $merge target namespace: '%s.%s'", "Cannot", 31319, 31320}
)

// checkTarget validates the target namespace of $out or $merge.
func checkTarget(r targetRules, db, coll string) error {
	if storage.ValidateDBName(db) != nil {
		return mongoerr.Newf(mongoerr.InvalidNamespace, r.invalid, db, coll)
	}
	if strings.HasPrefix(coll, "system.") {
		return mongoerr.Newf(r.system, "%s %s to special collection: %s", r.cannot, r.stage, coll)
	}
	if storage.ValidateCollectionName(db, coll) != nil {
		return mongoerr.Newf(mongoerr.InvalidNamespace, r.invalid, db, coll)
	}
	if internalDBs[db] {
		return mongoerr.Newf(r.internal, "%s %s to internal database: %s", r.cannot, r.stage, db)
	}
	return nil
}

// stringField reads a string option of a stage specification.
func stringField(stageName string, e bson.E) (string, error) {
	s, ok := e.Value.(string)
	if !ok {
		return "", mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '%s.%s' is the wrong type '%s', expected type 'string'", stageName, e.Key, value.TypeName(e.Value))
	}
	return s, nil
}

// outStage replaces a collection with the pipeline's results.
type outStage struct{ db, coll string }

func (*outStage) lastOnly()    {}
func (*outStage) name() string { return "$out" }

func parseOut(spec any, o *Options) (stage, error) {
	if o.Nested {
		return nil, mongoerr.Newf(51047, "$out is not allowed within a $lookup's sub-pipeline")
	}
	s := &outStage{db: o.DB}
	switch x := spec.(type) {
	case string:
		s.coll = x
	case bson.D:
		hasDB, hasColl := false, false
		for _, e := range x {
			var err error
			switch e.Key {
			case "db":
				s.db, err = stringField("$out", e)
				hasDB = true
			case "coll":
				s.coll, err = stringField("$out", e)
				hasColl = true
			case "timeseries":
				err = mongoerr.Newf(mongoerr.NotImplemented, "mongotest does not support $out to a time series collection")
			default:
				err = mongoerr.Newf(40415, "BSON field '$out.%s' is an unknown field.", e.Key)
			}
			if err != nil {
				return nil, err
			}
		}
		if !hasDB {
			return nil, mongoerr.Newf(40414, "BSON field '$out.db' is missing but a required field")
		}
		if !hasColl {
			return nil, mongoerr.Newf(40414, "BSON field '$out.coll' is missing but a required field")
		}
	default:
		return nil, mongoerr.Newf(16990, "$out only supports a string or object argument, but found %s", value.TypeName(spec))
	}
	if err := checkTarget(outRules, s.db, s.coll); err != nil {
		return nil, err
	}
	return s, nil
}

// preparedDoc is a document ready to insert.
type preparedDoc struct {
	doc bson.D
	raw []byte
}

func (s *outStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		if c.Store == nil {
			yield(nil, mongoerr.Newf(mongoerr.IllegalOperation, "$out needs a database to write to"))
			return
		}
		var docs []preparedDoc
		for d, err := range in {
			if err == nil {
				d, raw, perr := storage.PrepareDocument(d, nil)
				docs, err = append(docs, preparedDoc{d, raw}), perr
			}
			if err != nil {
				yield(nil, err)
				return
			}
		}
		if err := replaceCollection(c.Store, s.db, s.coll, docs); err != nil {
			yield(nil, err)
		}
	}
}

// replaceCollection makes docs the content of db.coll, keeping an existing collection's
// options and indexes, in one atomic step for readers.
func replaceCollection(store *storage.Store, db, coll string, docs []preparedDoc) error {
	options, indexes, err := targetShape(store, db, coll)
	if err != nil {
		return err
	}
	for _, e := range options {
		if e.Key == "capped" && value.Truthy(e.Value) {
			return mongoerr.Newf(17152, "namespace '%s.%s' is capped so it can't be used for $out", db, coll)
		}
	}
	tmpName := "tmp.agg_out." + newUUIDString()
	tmp, err := store.Create(db, tmpName, options)
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			store.Drop(db, tmpName)
		}
	}()
	err = tmp.Write(func(tx *storage.Tx) error {
		for _, ix := range indexes {
			if ix.Name == "_id_" {
				continue
			}
			if _, err := tx.CreateIndex(ix); err != nil {
				return mongoerr.Newf(mongoerr.From(err).Code, "Copying indexes for $out failed :: caused by :: %s", mongoerr.From(err).Message)
			}
		}
		for _, d := range docs {
			if _, err := tx.Insert(d.doc, d.raw, storage.WriteOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// As mongod does, refuse to replace a target whose options or indexes changed while
	// the pipeline ran (a concurrent $out with the same shape is fine).
	nowOptions, nowIndexes, err := targetShape(store, db, coll)
	if err != nil {
		return err
	}
	if value.Compare(optionsDoc(options), optionsDoc(nowOptions)) != 0 {
		return mongoerr.Newf(125, "collection options of target collection %s.%s changed during processing. Original options: %s, new options: %s", db, coll, value.Format(optionsDoc(options)), value.Format(optionsDoc(nowOptions)))
	}
	if !sameIndexes(indexes, nowIndexes) {
		return mongoerr.Newf(125, "indexes of target collection %s.%s changed during processing.", db, coll)
	}
	if err := store.Rename(db, tmpName, db, coll, true); err != nil {
		return err
	}
	renamed = true
	return nil
}

// targetShape returns a collection's options and index specs (nil when it does not exist).
func targetShape(store *storage.Store, db, coll string) (bson.D, []storage.IndexSpec, error) {
	t := store.Collection(db, coll)
	if t == nil {
		return nil, nil, nil
	}
	options, _ := t.Info()
	var indexes []storage.IndexSpec
	err := t.Read(func(tx *storage.Tx) error {
		indexes = tx.Indexes()
		return nil
	})
	return options, indexes, err
}

func optionsDoc(o bson.D) bson.D {
	if o == nil {
		return bson.D{}
	}
	return o
}

func sameIndexes(a, b []storage.IndexSpec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if value.Compare(a[i].Document(), b[i].Document()) != 0 {
			return false
		}
	}
	return true
}

func newUUIDString() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// whenMatched modes of $merge.
type matchedMode uint8

const (
	matchedMerge matchedMode = iota
	matchedReplace
	matchedKeepExisting
	matchedFail
	matchedPipeline
)

var matchedModes = map[string]matchedMode{
	"merge": matchedMerge, "replace": matchedReplace, "keepExisting": matchedKeepExisting, "fail": matchedFail,
}

// whenNotMatched modes of $merge.
type notMatchedMode uint8

const (
	notMatchedInsert notMatchedMode = iota
	notMatchedDiscard
	notMatchedFail
)

var notMatchedModes = map[string]notMatchedMode{
	"insert": notMatchedInsert, "discard": notMatchedDiscard, "fail": notMatchedFail,
}

// mergeLetVar is one variable of $merge's let, evaluated on each result document.
type mergeLetVar struct {
	name string
	e    *expr.Expr
}

// mergeStage writes results into a collection document by document.
type mergeStage struct {
	db, coll string
	// on are the fields identifying a document, sorted; explicitOn reports whether the
	// spec named them (the default _id needs no index check).
	on         []string
	onParts    [][]string
	onHasID    bool
	explicitOn bool
	matched    matchedMode
	notMatched notMatchedMode
	pipeline   *Pipeline
	let        []mergeLetVar
	vars       []string // user variables the let and pipeline see: the command's, then let's
}

func (*mergeStage) lastOnly()    {}
func (*mergeStage) name() string { return "$merge" }

func parseMerge(spec any, o *Options) (stage, error) {
	if o.Nested {
		return nil, mongoerr.Newf(51047, "$merge is not allowed within a $lookup's sub-pipeline")
	}
	s := &mergeStage{db: o.DB, on: []string{"_id"}, matched: matchedMerge, notMatched: notMatchedInsert}
	var letSpec bson.D
	hasLet := false
	var pipelineSpec bson.A
	switch x := spec.(type) {
	case string:
		s.coll = x
	case bson.D:
		hasInto := false
		for _, e := range x {
			var err error
			switch e.Key {
			case "into":
				err = s.parseInto(e.Value, o.DB)
				hasInto = true
			case "on":
				err = s.parseOn(e.Value)
			case "let":
				d, ok := e.Value.(bson.D)
				if !ok {
					err = mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '$merge.let' is the wrong type '%s', expected type 'object'", value.TypeName(e.Value))
				}
				letSpec, hasLet = d, true
			case "whenMatched":
				pipelineSpec, err = s.parseWhenMatched(e.Value)
			case "whenNotMatched":
				var mode string
				if mode, err = stringField("$merge", e); err == nil {
					m, ok := notMatchedModes[mode]
					if !ok {
						err = mongoerr.Newf(mongoerr.BadValue, "Enumeration value '%s' for field '$merge.whenNotMatched' is not a valid value.", mode)
					}
					s.notMatched = m
				}
			case "targetCollectionVersion":
				// Set by mongos for shards; meaningless on a single server.
			default:
				err = mongoerr.Newf(40415, "BSON field '$merge.%s' is an unknown field.", e.Key)
			}
			if err != nil {
				return nil, err
			}
		}
		if !hasInto {
			return nil, mongoerr.Newf(40414, "BSON field '$merge.into' is missing but a required field")
		}
	default:
		return nil, mongoerr.Newf(mongoerr.TypeMismatch, "$merge requires a string or object argument, but found %s", value.TypeName(spec))
	}
	if err := checkTarget(mergeRules, s.db, s.coll); err != nil {
		return nil, err
	}
	if !s.supportedModes() {
		return nil, mongoerr.Newf(51181, "Combination of $merge modes 'whenMatched: %s' and 'whenNotMatched: %s' is not supported", s.matchedName(), s.notMatchedName())
	}
	if err := s.compileLet(letSpec, hasLet, pipelineSpec, o); err != nil {
		return nil, err
	}
	s.onParts = make([][]string, len(s.on))
	for i, f := range s.on {
		s.onParts[i] = strings.Split(f, ".")
		s.onHasID = s.onHasID || f == "_id"
	}
	return s, nil
}

func (s *mergeStage) parseInto(v any, defaultDB string) error {
	switch x := v.(type) {
	case string:
		if x == "" {
			return mongoerr.Newf(5786800, "$merge 'into' field cannot be an empty string")
		}
		s.coll = x
	case bson.D:
		db := ""
		for _, e := range x {
			var err error
			if e.Value == nil || e.Value == (bson.Undefined{}) {
				// null or undefined stand for an absent field, as mongod's parser reads them.
				if e.Key == "db" || e.Key == "coll" {
					continue
				}
			}
			switch e.Key {
			case "db":
				db, err = stringField("into", e)
			case "coll":
				s.coll, err = stringField("into", e)
			default:
				err = mongoerr.Newf(40415, "BSON field 'into.%s' is an unknown field.", e.Key)
			}
			if err != nil {
				return err
			}
		}
		if s.coll == "" {
			return mongoerr.Newf(5786801, "$merge 'into' field must specify a 'coll' that is not empty, null or undefined")
		}
		s.db = defaultDB
		if db != "" {
			s.db = db
		}
	default:
		return mongoerr.Newf(51178, "$merge 'into' field  must be either a string or an object, but found %s", value.TypeName(v))
	}
	return nil
}

func (s *mergeStage) parseOn(v any) error {
	var fields []string
	switch x := v.(type) {
	case string:
		fields = []string{x}
	case bson.A:
		for _, f := range x {
			str, ok := f.(string)
			if !ok {
				return mongoerr.Newf(51134, "$merge 'on' array elements must be strings, but found %s", value.TypeName(f))
			}
			fields = append(fields, str)
		}
	default:
		return mongoerr.Newf(51186, "$merge 'on' field  must be either a string or an array of strings, but found %s", value.TypeName(v))
	}
	if len(fields) == 0 {
		return mongoerr.Newf(51187, "If explicitly specifying $merge 'on', must include at least one field")
	}
	for _, f := range fields {
		if _, err := value.SplitFieldPath(f); err != nil {
			return err
		}
	}
	sorted := slices.Clone(fields)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return mongoerr.Newf(31465, "Found a duplicate field '%s'", sorted[i])
		}
	}
	s.on, s.explicitOn = sorted, true
	return nil
}

func (s *mergeStage) parseWhenMatched(v any) (bson.A, error) {
	switch x := v.(type) {
	case string:
		m, ok := matchedModes[x]
		if !ok {
			return nil, mongoerr.Newf(mongoerr.BadValue, "Enumeration value '%s' for field 'whenMatched' is not a valid value.", x)
		}
		s.matched = m
		return nil, nil
	case bson.A:
		for _, st := range x {
			if _, ok := st.(bson.D); !ok {
				return nil, mongoerr.Newf(mongoerr.TypeMismatch, "Each element of the 'pipeline' array must be an object")
			}
		}
		s.matched = matchedPipeline
		return x, nil
	}
	return nil, mongoerr.Newf(51191, "$merge 'whenMatched' field  must be either a string or an array, but found %s", value.TypeName(v))
}

// supportedModes lists the whenMatched/whenNotMatched pairs mongod implements.
func (s *mergeStage) supportedModes() bool {
	switch s.matched {
	case matchedKeepExisting, matchedFail:
		return s.notMatched == notMatchedInsert
	}
	return true
}

func (s *mergeStage) matchedName() string {
	for name, m := range matchedModes {
		if m == s.matched {
			return name
		}
	}
	return "pipeline"
}

func (s *mergeStage) notMatchedName() string {
	for name, m := range notMatchedModes {
		if m == s.notMatched {
			return name
		}
	}
	return ""
}

// compileLet compiles let and the whenMatched pipeline. let is only for a pipeline; it
// defaults to {new: "$$ROOT"}, and "new" is always the incoming document.
func (s *mergeStage) compileLet(letSpec bson.D, hasLet bool, pipelineSpec bson.A, o *Options) error {
	if s.matched != matchedPipeline {
		if hasLet {
			return mongoerr.Newf(51199, "Cannot use 'let' variables with 'whenMatched: %s' mode", s.matchedName())
		}
		return nil
	}
	if !hasLet {
		letSpec = bson.D{{Key: "new", Value: "$$ROOT"}}
	}
	hasNew := false
	for _, e := range letSpec {
		if e.Key == "new" {
			if str, ok := e.Value.(string); !ok || str != "$$ROOT" {
				return mongoerr.Newf(51273, "'let' may not define a value for the reserved 'new' variable other than '$$ROOT'")
			}
			hasNew = true
		}
	}
	if !hasNew && s.notMatched == notMatchedInsert {
		letSpec = append(slices.Clone(letSpec), bson.E{Key: "new", Value: "$$ROOT"})
	}
	s.vars = slices.Clone(o.Vars)
	for _, e := range letSpec {
		// Binding the name with $let applies the rules for user variable names.
		if _, err := expr.Compile(bson.D{{Key: "$let", Value: bson.D{{Key: "vars", Value: bson.D{{Key: e.Key, Value: nil}}}, {Key: "in", Value: nil}}}}); err != nil {
			return err
		}
		ex, err := expr.Compile(e.Value, o.Vars...)
		if err != nil {
			return err
		}
		s.let = append(s.let, mergeLetVar{name: e.Key, e: ex})
		s.vars = append(s.vars, e.Key)
	}
	p, err := Compile(pipelineSpec, Options{Vars: s.vars, DB: o.DB, ForUpdate: true})
	if err != nil {
		return err
	}
	s.pipeline = p
	return nil
}

// mergeItem is one result prepared for writing: the document (with an _id when "on"
// includes it), the query of its "on" fields and its let values.
type mergeItem struct {
	doc  bson.D
	q    bson.D
	vals []any
}

func (s *mergeStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		if c.Store == nil {
			yield(nil, mongoerr.Newf(mongoerr.IllegalOperation, "$merge needs a database to write to"))
			return
		}
		env := c.Env
		if env == nil {
			env = &expr.Env{}
		}
		target := c.Store.Collection(s.db, s.coll)
		if err := s.checkUniqueIndex(target); err != nil {
			yield(nil, err)
			return
		}
		var items []mergeItem
		for d, err := range in {
			var it mergeItem
			if err == nil {
				it, err = s.prepare(env, d)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			items = append(items, it)
		}
		if len(items) == 0 {
			return
		}
		if target == nil {
			var err error
			if target, _, err = c.Store.Ensure(s.db, s.coll); err != nil {
				yield(nil, err)
				return
			}
		}
		if err := target.Write(func(tx *storage.Tx) error { return s.write(env, tx, items) }); err != nil {
			yield(nil, err)
		}
	}
}

// checkUniqueIndex enforces that explicit "on" fields have a unique index in the target
// (exactly those fields, not partial); a missing target only supports _id.
func (s *mergeStage) checkUniqueIndex(target *storage.Collection) error {
	if !s.explicitOn || (len(s.on) == 1 && s.on[0] == "_id") {
		return nil
	}
	errNoIndex := mongoerr.Newf(51183, "Cannot find index to verify that join fields will be unique")
	if target == nil {
		return errNoIndex
	}
	var indexes []storage.IndexSpec
	_ = target.Read(func(tx *storage.Tx) error {
		indexes = tx.Indexes()
		return nil
	})
	for _, ix := range indexes {
		if !ix.Unique || ix.PartialFilter != nil || len(ix.Key) != len(s.on) {
			continue
		}
		keys := make([]string, len(ix.Key))
		for i, k := range ix.Key {
			keys[i] = k.Key
		}
		slices.Sort(keys)
		if slices.Equal(keys, s.on) {
			return nil
		}
	}
	return errNoIndex
}

// prepare builds the write of one result document.
func (s *mergeStage) prepare(env *expr.Env, d bson.D) (mergeItem, error) {
	if s.onHasID {
		if _, ok := value.Lookup(d, "_id"); !ok {
			d = append(bson.D{{Key: "_id", Value: bson.NewObjectID()}}, d...)
		}
	}
	it := mergeItem{doc: d}
	if s.matched != matchedFail {
		it.q = make(bson.D, len(s.on))
		for i, parts := range s.onParts {
			v := lookupNoArrays(d, parts)
			if value.IsNullish(v) {
				return it, mongoerr.Newf(51132, "$merge write error: 'on' field cannot be missing, null, undefined or an array")
			}
			if _, isArray := v.(bson.A); isArray {
				return it, mongoerr.Newf(51185, "$merge write error: 'on' field cannot be missing, null, undefined or an array")
			}
			it.q[i] = bson.E{Key: s.on[i], Value: v}
		}
	}
	if len(s.let) > 0 {
		it.vals = make([]any, len(s.let))
		for i, l := range s.let {
			v, err := l.e.Eval(env, d)
			if err != nil {
				return it, err
			}
			if value.IsMissing(v) {
				v = nil
			}
			it.vals[i] = v
		}
	}
	return it, nil
}

// lookupNoArrays follows a dotted path through embedded documents only, as mongod reads
// the "on" fields; anything else along the way makes the value missing.
func lookupNoArrays(d bson.D, parts []string) any {
	var cur any = d
	for _, p := range parts {
		doc, ok := cur.(bson.D)
		if !ok {
			return value.Missing
		}
		v, ok := value.Lookup(doc, p)
		if !ok {
			return value.Missing
		}
		cur = v
	}
	return cur
}

// write applies the prepared results to the target under its write lock. Like the
// unordered writes mongod issues for $merge, a failing document does not stop the
// others; the first error is reported after all were tried, and whenNotMatched "fail"
// reports its error when no write failed.
func (s *mergeStage) write(cmdEnv *expr.Env, tx *storage.Tx, items []mergeItem) error {
	var env *expr.Env
	if s.pipeline != nil {
		// The pipeline sees the command's variables and, per document, let's.
		env = &expr.Env{Now: cmdEnv.Now, ClusterTime: cmdEnv.ClusterTime, Vars: make(map[string]any, len(s.vars))}
		for k, v := range cmdEnv.Vars {
			env.Vars[k] = v
		}
	}
	uctx := &update.Context{Positional: -1, Now: cmdEnv.Now, Timestamp: cmdEnv.ClusterTime, Env: cmdEnv}
	var firstErr error
	unmatched := false
	for i := range items {
		matched, err := s.writeOne(tx, env, uctx, &items[i])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		unmatched = unmatched || !matched
	}
	if firstErr != nil {
		return firstErr
	}
	if unmatched && s.notMatched == notMatchedFail {
		return mongoerr.Newf(13113, "$merge could not find a matching document in the target collection for at least one document in the source collection")
	}
	return nil
}

// writeOne applies one result and reports whether it matched a target document.
func (s *mergeStage) writeOne(tx *storage.Tx, env *expr.Env, uctx *update.Context, it *mergeItem) (bool, error) {
	if s.matched == matchedFail {
		if err := insertPrepared(tx, it.doc); err != nil {
			return true, mergeContext(err, "$merge with whenMatched: fail found an existing document with the same values for the 'on' fields")
		}
		return true, nil
	}
	existing, err := findMatch(tx, it.q)
	if err != nil {
		return true, err
	}
	if existing == nil {
		switch s.notMatched {
		case notMatchedDiscard:
			return false, nil
		case notMatchedFail:
			return false, nil
		}
		doc, err := s.upsertDoc(it, uctx)
		if err == nil {
			err = insertPrepared(tx, doc)
		}
		return false, mergeContext(err, "$merge failed to update the matching document, did you attempt to modify the _id field?")
	}
	var doc bson.D
	switch s.matched {
	case matchedKeepExisting:
		return true, nil
	case matchedReplace:
		doc = it.doc
		if _, ok := value.Lookup(doc, "_id"); !ok {
			doc = append(bson.D{existing.Doc[0]}, doc...)
		}
	case matchedMerge:
		u, err := update.Compile(bson.D{{Key: "$set", Value: it.doc}}, nil)
		if err != nil {
			return true, err
		}
		if doc, _, err = u.Apply(existing.Doc, uctx); err != nil {
			return true, mergeContext(err, "$merge failed to update the matching document, did you attempt to modify the _id field?")
		}
	case matchedPipeline:
		for j, l := range s.let {
			env.Vars[l.name] = it.vals[j]
		}
		if doc, err = s.pipeline.ApplyUpdate(env, existing.Doc); err != nil {
			return true, mergeContext(err, "$merge failed to update the matching document, did you attempt to modify the _id field?")
		}
	}
	id, _ := value.Lookup(doc, "_id")
	if value.Compare(id, existing.ID()) != 0 || value.TypeOf(id) != value.TypeOf(existing.ID()) {
		return true, mergeContext(mongoerr.Newf(mongoerr.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'"),
			"$merge failed to update the matching document, did you attempt to modify the _id field?")
	}
	if len(doc) == 0 || doc[0].Key != "_id" {
		if doc, _, err = storage.PrepareDocument(doc, nil); err != nil {
			return true, err
		}
	}
	if _, err := tx.Replace(existing, doc, storage.WriteOptions{}); err != nil {
		return true, mergeContext(err, "$merge failed to update the matching document, did you attempt to modify the _id field?")
	}
	return true, nil
}

// upsertDoc is the document an unmatched result inserts, as the update mongod issues
// for the mode would upsert it.
func (s *mergeStage) upsertDoc(it *mergeItem, uctx *update.Context) (bson.D, error) {
	var op string
	switch s.matched {
	case matchedMerge:
		op = "$set"
	case matchedKeepExisting:
		op = "$setOnInsert"
	default:
		// A replacement (or a pipeline's supplied document) is inserted as it is.
		return it.doc, nil
	}
	seed, err := update.UpsertSeed(it.q)
	if err != nil {
		return nil, err
	}
	u, err := update.Compile(bson.D{{Key: op, Value: it.doc}}, nil)
	if err != nil {
		return nil, err
	}
	ins := *uctx
	ins.Inserting = true
	doc, _, err := u.Apply(seed, &ins)
	return doc, err
}

// findMatch returns the target document the "on" query matches, or nil.
func findMatch(tx *storage.Tx, q bson.D) (*storage.Record, error) {
	m, err := match.Compile(q, nil)
	if err != nil {
		return nil, err
	}
	hits, _, err := tx.Find(&storage.Query{Filter: q, Matcher: m, Limit: 1})
	if err != nil || len(hits) == 0 {
		return nil, err
	}
	return hits[0].Rec, nil
}

func insertPrepared(tx *storage.Tx, doc bson.D) error {
	doc, raw, err := storage.PrepareDocument(doc, nil)
	if err != nil {
		return err
	}
	_, err = tx.Insert(doc, raw, storage.WriteOptions{})
	return err
}

// mergeContext prefixes a duplicate-key or immutable-_id error with what $merge was
// doing, as mongod does, keeping its code and extra fields (keyPattern, keyValue).
func mergeContext(err error, context string) error {
	if err == nil {
		return nil
	}
	e := mongoerr.From(err)
	if e.Code != mongoerr.DuplicateKey && e.Code != mongoerr.ImmutableField {
		return err
	}
	return &mongoerr.Error{Code: e.Code, Message: context + " :: caused by :: " + e.Message, Extra: e.Extra}
}

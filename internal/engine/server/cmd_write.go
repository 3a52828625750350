package server

import (
	"bytes"
	"context"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/projection"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/update"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register((*Server).cmdUpdate, "update")
	register((*Server).cmdDelete, "delete")
	register((*Server).cmdFindAndModify, "findAndModify", "findandmodify")
}

// modifier is a compiled update: an operator document, a replacement or a pipeline.
type modifier struct {
	ops         *update.Update
	replacement bson.D
	pipeline    *agg.Pipeline
}

func compileModifier(u any, arrayFilters []bson.D, vars []string) (*modifier, error) {
	switch x := u.(type) {
	case bson.D:
		if update.IsOperatorUpdate(x) {
			ops, err := update.CompileWithVars(x, arrayFilters, vars)
			if err != nil {
				return nil, err
			}
			return &modifier{ops: ops}, nil
		}
		if arrayFilters != nil {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "arrayFilters may not be specified for replacement-style updates")
		}
		if err := update.ValidateReplacement(x); err != nil {
			return nil, err
		}
		return &modifier{replacement: x}, nil
	case bson.A:
		if arrayFilters != nil {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "arrayFilters may not be specified for pipeline-style updates")
		}
		p, err := agg.CompileUpdatePipeline(x, vars)
		if err != nil {
			return nil, err
		}
		return &modifier{pipeline: p}, nil
	}
	return nil, mongoerr.Newf(mongoerr.FailedToParse, "Update argument must be either an object or an array")
}

// needsPosition reports whether applying the modifier needs the query's matched array
// position (the positional $ operator).
func (m *modifier) needsPosition() bool { return m.ops != nil && m.ops.IsPositional() }

// apply computes the new version of doc. For a replacement the result keeps doc's _id.
func (m *modifier) apply(doc bson.D, raw []byte, pos int, inserting bool, env *expr.Env) (bson.D, bool, error) {
	switch {
	case m.ops != nil:
		return m.ops.Apply(doc, &update.Context{Positional: pos, Inserting: inserting, Now: env.Now, Timestamp: env.ClusterTime, Env: env})
	case m.pipeline != nil:
		out, err := m.pipeline.ApplyUpdate(env, doc)
		if err != nil {
			return nil, false, err
		}
		return out, !docsIdentical(out, doc), nil
	}
	out := make(bson.D, 0, len(m.replacement)+1)
	if id, ok := value.Lookup(doc, "_id"); ok {
		out = append(out, bson.E{Key: "_id", Value: id})
	}
	for _, e := range m.replacement {
		if e.Key == "_id" && len(out) > 0 && out[0].Key == "_id" {
			if value.Compare(e.Value, out[0].Value) != 0 || value.TypeOf(e.Value) != value.TypeOf(out[0].Value) {
				return nil, false, mongoerr.Newf(mongoerr.ImmutableField, "After applying the update, the (immutable) field '_id' was found to have been altered to _id: %v", e.Value)
			}
			continue
		}
		out = append(out, e)
	}
	if raw == nil {
		return out, true, nil
	}
	return out, !docsIdentical(out, doc), nil
}

// docsIdentical reports byte-for-byte equality: MongoDB counts {a: 1} -> {a: 1.0} as a
// modification even though the values compare equal.
func docsIdentical(a, b bson.D) bool {
	ea, err1 := value.Encode(a)
	eb, err2 := value.Encode(b)
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}

// upsertDocument builds the document an upsert inserts.
func (m *modifier) upsertDocument(filter bson.D, env *expr.Env) (bson.D, error) {
	if m.replacement != nil {
		doc := value.CopyDoc(m.replacement)
		if _, has := value.Lookup(doc, "_id"); !has {
			id, found, err := update.ReplacementUpsertID(filter)
			if err != nil {
				return nil, err
			}
			if found {
				doc = append(bson.D{{Key: "_id", Value: id}}, doc...)
			}
		}
		return doc, nil
	}
	seed, err := update.UpsertSeed(filter)
	if err != nil {
		return nil, err
	}
	doc, _, err := m.apply(seed, nil, -1, true, env)
	return doc, err
}

// updateStatement is one entry of the update command's updates array.
type updateStatement struct {
	q            bson.D
	u            any
	upsert       bool
	multi        bool
	arrayFilters []bson.D
	hint         any
}

func parseUpdateStatement(v any) (*updateStatement, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.TypeMismatch, "BSON field 'update.updates' elements must be objects")
	}
	st := &updateStatement{}
	var hasQ, hasU bool
	for _, e := range d {
		var err error
		switch e.Key {
		case "q":
			st.q, err = asDoc("update.updates", "q", e.Value)
			hasQ = true
		case "u":
			st.u, hasU = e.Value, true
		case "upsert":
			st.upsert, err = asBool("update.updates", "upsert", e.Value)
		case "multi":
			st.multi, err = asBool("update.updates", "multi", e.Value)
		case "arrayFilters":
			var arr bson.A
			if arr, err = asArray("update.updates", "arrayFilters", e.Value); err == nil {
				st.arrayFilters = make([]bson.D, 0, len(arr))
				for _, f := range arr {
					fd, ok := f.(bson.D)
					if !ok {
						return nil, wrongType("update.updates", "arrayFilters", f, " 'object'")
					}
					st.arrayFilters = append(st.arrayFilters, fd)
				}
			}
		case "hint":
			st.hint = e.Value
		case "collation":
			err = notSupported("collations")
		case "c", "upsertSupplied", "sort":
			if e.Key == "sort" {
				err = notSupported("sort in update statements")
			}
		default:
			return nil, unknownField("update.updates", e.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasQ {
		return nil, mongoerr.Newf(40414, "BSON field 'update.updates.q' is missing but a required field")
	}
	if !hasU {
		return nil, mongoerr.Newf(40414, "BSON field 'update.updates.u' is missing but a required field")
	}
	return st, nil
}

func (s *Server) cmdUpdate(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	var stmts bson.A
	ordered := true
	var let bson.D
	var opts storage.WriteOptions
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "updates":
			stmts, err = asArray(req.name, e.Key, e.Value)
		case "ordered":
			ordered, err = asBool(req.name, e.Key, e.Value)
		case "let":
			let, err = asDoc(req.name, e.Key, e.Value)
		case "bypassDocumentValidation":
			opts.BypassValidation, err = asBool(req.name, e.Key, e.Value)
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	env, vars, err := s.env(req, let)
	if err != nil {
		return nil, err
	}
	var n, nModified int
	var upserted, writeErrors bson.A
	for i, v := range stmts {
		matched, modified, upsertedID, err := s.runUpdate(req, name, v, env, vars, opts)
		if err != nil {
			writeErrors = append(writeErrors, mongoerr.From(err).WriteError(i))
			if ordered {
				break
			}
			continue
		}
		n += matched
		nModified += modified
		if upsertedID != nil {
			n++
			upserted = append(upserted, bson.D{{Key: "index", Value: int32(i)}, {Key: "_id", Value: upsertedID}})
		}
	}
	s.tick()
	reply := []bson.E{{Key: "n", Value: int32(n)}, {Key: "nModified", Value: int32(nModified)}}
	if upserted != nil {
		reply = append(reply, bson.E{Key: "upserted", Value: upserted})
	}
	if writeErrors != nil {
		reply = append(reply, bson.E{Key: "writeErrors", Value: writeErrors})
	}
	return ok(reply...), nil
}

// runUpdate runs one update statement atomically on its collection.
func (s *Server) runUpdate(req *request, name string, v any, env *expr.Env, vars []string, opts storage.WriteOptions) (matched, modified int, upsertedID any, err error) {
	st, err := parseUpdateStatement(v)
	if err != nil {
		return 0, 0, nil, err
	}
	mod, err := compileModifier(st.u, st.arrayFilters, vars)
	if err != nil {
		return 0, 0, nil, err
	}
	if st.multi && mod.replacement != nil {
		return 0, 0, nil, mongoerr.Newf(mongoerr.FailedToParse, "multi update is not supported for replacement-style update")
	}
	m, err := match.Compile(st.q, &match.Options{Vars: vars})
	if err != nil {
		return 0, 0, nil, err
	}
	c := s.store.Collection(req.db, name)
	if c == nil {
		if !st.upsert {
			return 0, 0, nil, nil
		}
		if c, _, err = s.store.Ensure(req.db, name); err != nil {
			return 0, 0, nil, err
		}
	}
	err = c.Write(func(tx *storage.Tx) error {
		q := &storage.Query{Filter: st.q, Matcher: m, Env: env, Hint: st.hint, Positions: mod.needsPosition()}
		if !st.multi {
			q.Limit = 1
		}
		hits, _, err := tx.Find(q)
		if err != nil {
			return err
		}
		for _, h := range hits {
			doc, changed, err := mod.apply(h.Rec.Doc, h.Rec.Raw, h.Pos, false, env)
			if err != nil {
				return err
			}
			matched++
			if !changed {
				continue
			}
			if _, err := tx.Replace(h.Rec, doc, opts); err != nil {
				return err
			}
			modified++
		}
		if len(hits) > 0 || !st.upsert {
			return nil
		}
		doc, err := mod.upsertDocument(st.q, env)
		if err != nil {
			return err
		}
		doc, raw, err := storage.PrepareDocument(doc, nil)
		if err != nil {
			return err
		}
		if _, err := tx.Insert(doc, raw, opts); err != nil {
			return err
		}
		upsertedID = doc[0].Value
		return nil
	})
	return matched, modified, upsertedID, err
}

func (s *Server) cmdDelete(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	var stmts bson.A
	ordered := true
	var let bson.D
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "deletes":
			stmts, err = asArray(req.name, e.Key, e.Value)
		case "ordered":
			ordered, err = asBool(req.name, e.Key, e.Value)
		case "let":
			let, err = asDoc(req.name, e.Key, e.Value)
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	env, vars, err := s.env(req, let)
	if err != nil {
		return nil, err
	}
	n := 0
	var writeErrors bson.A
	for i, v := range stmts {
		deleted, err := s.runDelete(req, name, v, env, vars)
		if err != nil {
			writeErrors = append(writeErrors, mongoerr.From(err).WriteError(i))
			if ordered {
				break
			}
			continue
		}
		n += deleted
	}
	s.tick()
	reply := []bson.E{{Key: "n", Value: int32(n)}}
	if writeErrors != nil {
		reply = append(reply, bson.E{Key: "writeErrors", Value: writeErrors})
	}
	return ok(reply...), nil
}

func (s *Server) runDelete(req *request, name string, v any, env *expr.Env, vars []string) (int, error) {
	d, ok := v.(bson.D)
	if !ok {
		return 0, mongoerr.Newf(mongoerr.TypeMismatch, "BSON field 'delete.deletes' elements must be objects")
	}
	var filter bson.D
	var limit int64 = -1
	var hint any
	for _, e := range d {
		var err error
		switch e.Key {
		case "q":
			filter, err = asDoc("delete.deletes", "q", e.Value)
		case "limit":
			limit, err = asInt64("delete.deletes", "limit", e.Value)
			if err == nil && limit != 0 && limit != 1 {
				err = mongoerr.Newf(mongoerr.FailedToParse, "The limit field in delete objects must be 0 or 1. Got %d", limit)
			}
		case "hint":
			hint = e.Value
		case "collation":
			err = notSupported("collations")
		default:
			err = unknownField("delete.deletes", e.Key)
		}
		if err != nil {
			return 0, err
		}
	}
	if filter == nil {
		return 0, mongoerr.Newf(40414, "BSON field 'delete.deletes.q' is missing but a required field")
	}
	if limit < 0 {
		return 0, mongoerr.Newf(40414, "BSON field 'delete.deletes.limit' is missing but a required field")
	}
	m, err := match.Compile(filter, &match.Options{Vars: vars})
	if err != nil {
		return 0, err
	}
	c := s.store.Collection(req.db, name)
	if c == nil {
		return 0, nil
	}
	n := 0
	err = c.Write(func(tx *storage.Tx) error {
		hits, _, err := tx.Find(&storage.Query{Filter: filter, Matcher: m, Env: env, Hint: hint, Limit: int(limit)})
		if err != nil {
			return err
		}
		for _, h := range hits {
			tx.Delete(h.Rec)
			n++
		}
		return nil
	})
	return n, err
}

func (s *Server) cmdFindAndModify(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	var filter, sortSpec, fieldsSpec, let bson.D
	var u any
	var remove, returnNew, upsert bool
	var arrayFilters []bson.D
	var hint any
	var opts storage.WriteOptions
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "query":
			if e.Value != nil {
				filter, err = asDoc(req.name, e.Key, e.Value)
			}
		case "sort":
			if e.Value != nil {
				sortSpec, err = asDoc(req.name, e.Key, e.Value)
			}
		case "fields":
			if e.Value != nil {
				fieldsSpec, err = asDoc(req.name, e.Key, e.Value)
			}
		case "let":
			let, err = asDoc(req.name, e.Key, e.Value)
		case "update":
			u = e.Value
		case "remove":
			remove, err = asBool(req.name, e.Key, e.Value)
		case "new":
			returnNew, err = asBool(req.name, e.Key, e.Value)
		case "upsert":
			upsert, err = asBool(req.name, e.Key, e.Value)
		case "arrayFilters":
			var arr bson.A
			if arr, err = asArray(req.name, e.Key, e.Value); err == nil {
				arrayFilters = []bson.D{}
				for _, f := range arr {
					fd, ok := f.(bson.D)
					if !ok {
						return true, wrongType(req.name, e.Key, f, " 'object'")
					}
					arrayFilters = append(arrayFilters, fd)
				}
			}
		case "hint":
			hint = e.Value
		case "bypassDocumentValidation":
			opts.BypassValidation, err = asBool(req.name, e.Key, e.Value)
		case "collation":
			err = notSupported("collations")
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	switch {
	case remove && u != nil:
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "Cannot specify both an update and remove=true")
	case remove && upsert:
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "Cannot specify both upsert=true and remove=true ")
	case remove && returnNew:
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document")
	case !remove && u == nil:
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "Either an update or remove=true must be specified")
	}
	env, vars, err := s.env(req, let)
	if err != nil {
		return nil, err
	}
	m, err := match.Compile(filter, &match.Options{Vars: vars})
	if err != nil {
		return nil, err
	}
	var srt *sorter.Sorter
	if len(sortSpec) > 0 {
		if srt, err = sorter.Compile(sortSpec); err != nil {
			return nil, err
		}
	}
	var proj *projection.Projection
	if len(fieldsSpec) > 0 {
		if proj, err = projection.Compile(fieldsSpec, projection.Find, vars...); err != nil {
			return nil, err
		}
	}
	var mod *modifier
	if !remove {
		if mod, err = compileModifier(u, arrayFilters, vars); err != nil {
			return nil, err
		}
	}
	c := s.store.Collection(req.db, name)
	if c == nil {
		if !upsert {
			return ok(bson.E{Key: "lastErrorObject", Value: bson.D{{Key: "n", Value: int32(0)}, {Key: "updatedExisting", Value: false}}}, bson.E{Key: "value", Value: nil}), nil
		}
		if c, _, err = s.store.Ensure(req.db, name); err != nil {
			return nil, err
		}
	}
	var result bson.D
	resultPos := -1
	lastError := bson.D{{Key: "n", Value: int32(0)}}
	err = c.Write(func(tx *storage.Tx) error {
		q := &storage.Query{Filter: filter, Matcher: m, Env: env, Hint: hint, Positions: true}
		if srt == nil {
			q.Limit = 1
		}
		hits, _, err := tx.Find(q)
		if err != nil {
			return err
		}
		if hits, err = sortHits(hits, srt, 1); err != nil {
			return err
		}
		if len(hits) > 0 {
			h := hits[0]
			resultPos = h.Pos
			if remove {
				tx.Delete(h.Rec)
				result = h.Rec.Doc
				lastError = bson.D{{Key: "n", Value: int32(1)}}
				return nil
			}
			doc, changed, err := mod.apply(h.Rec.Doc, h.Rec.Raw, h.Pos, false, env)
			if err != nil {
				return err
			}
			result = h.Rec.Doc
			if changed {
				rec, err := tx.Replace(h.Rec, doc, opts)
				if err != nil {
					return err
				}
				doc = rec.Doc
			}
			if returnNew {
				result = doc
			}
			lastError = bson.D{{Key: "n", Value: int32(1)}, {Key: "updatedExisting", Value: true}}
			return nil
		}
		if remove {
			return nil
		}
		lastError = bson.D{{Key: "n", Value: int32(0)}, {Key: "updatedExisting", Value: false}}
		if !upsert {
			return nil
		}
		doc, err := mod.upsertDocument(filter, env)
		if err != nil {
			return err
		}
		doc, raw, err := storage.PrepareDocument(doc, nil)
		if err != nil {
			return err
		}
		if _, err := tx.Insert(doc, raw, opts); err != nil {
			return err
		}
		lastError = bson.D{{Key: "n", Value: int32(1)}, {Key: "updatedExisting", Value: false}, {Key: "upserted", Value: doc[0].Value}}
		if returnNew {
			result = doc
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.tick()
	var out any
	if result != nil {
		if proj != nil {
			if result, err = proj.Apply(result, &projection.Context{Env: env, Positional: resultPos}); err != nil {
				return nil, err
			}
		}
		out = result
	}
	return ok(bson.E{Key: "lastErrorObject", Value: lastError}, bson.E{Key: "value", Value: out}), nil
}

package server

import (
	"context"
	"slices"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/projection"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register((*Server).cmdInsert, "insert")
	register((*Server).cmdFind, "find")
	register((*Server).cmdGetMore, "getMore")
	register((*Server).cmdKillCursors, "killCursors")
	register((*Server).cmdCount, "count")
	register((*Server).cmdDistinct, "distinct")
}

// insertChunk is how many documents one lock acquisition inserts, so a large insertMany
// lets readers in between chunks.
const insertChunk = 1000

func (s *Server) cmdInsert(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	var docs bson.A
	ordered := true
	var opts storage.WriteOptions
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "documents":
			docs, err = asArray(req.name, e.Key, e.Value)
		case "ordered":
			ordered, err = asBool(req.name, e.Key, e.Value)
		case "bypassDocumentValidation":
			opts.BypassValidation, err = asBool(req.name, e.Key, e.Value)
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	if docs == nil {
		return nil, mongoerr.Newf(40414, "BSON field 'insert.documents' is missing but a required field")
	}
	if len(docs) > 100_000 {
		return nil, mongoerr.Newf(mongoerr.InvalidLength, "Write batch sizes must be between 1 and 100000. Got %d operations.", len(docs))
	}
	raws := req.raws["documents"]
	c, _, err := s.store.Ensure(req.db, name)
	if err != nil {
		return nil, err
	}
	n := 0
	var writeErrors bson.A
	stop := false
	for start := 0; start < len(docs) && !stop; start += insertChunk {
		end := min(start+insertChunk, len(docs))
		_ = c.Write(func(tx *storage.Tx) error {
			for i := start; i < end; i++ {
				doc, ok := docs[i].(bson.D)
				var err error
				if !ok {
					err = mongoerr.Newf(mongoerr.TypeMismatch, "BSON field 'insert.documents.%d' is the wrong type '%s', expected type 'object'", i, value.TypeName(docs[i]))
				} else {
					var raw []byte
					if raws != nil {
						raw = raws[i]
					}
					if doc, raw, err = storage.PrepareDocument(doc, raw); err == nil {
						_, err = tx.Insert(doc, raw, opts)
					}
				}
				if err != nil {
					writeErrors = append(writeErrors, mongoerr.From(err).WriteError(i))
					if ordered {
						stop = true
						return nil
					}
					continue
				}
				n++
			}
			return nil
		})
	}
	s.tick()
	reply := []bson.E{{Key: "n", Value: int32(n)}}
	if writeErrors != nil {
		reply = append(reply, bson.E{Key: "writeErrors", Value: writeErrors})
	}
	return ok(reply...), nil
}

// env builds the evaluation environment of a command: $$NOW, $$CLUSTER_TIME and the
// values of its let variables.
func (s *Server) env(req *request, let bson.D) (*expr.Env, []string, error) {
	env := &expr.Env{Now: bson.NewDateTimeFromTime(req.now), ClusterTime: s.clusterTime()}
	if len(let) == 0 {
		return env, nil, nil
	}
	env.Vars = make(map[string]any, len(let))
	names := make([]string, 0, len(let))
	for _, e := range let {
		ex, err := expr.Compile(e.Value, names...)
		if err != nil {
			return nil, nil, err
		}
		v, err := ex.Eval(env, nil)
		if err != nil {
			return nil, nil, err
		}
		env.Vars[e.Key] = v
		names = append(names, e.Key)
	}
	return env, names, nil
}

// findSpec is a parsed find command.
type findSpec struct {
	filter, sort, projection, let bson.D
	hint                          any
	skip, limit, batchSize        int64
	singleBatch                   bool
}

func parseFind(req *request) (*findSpec, error) {
	f := &findSpec{}
	err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "filter":
			f.filter, err = asDoc(req.name, e.Key, e.Value)
		case "sort":
			f.sort, err = asDoc(req.name, e.Key, e.Value)
		case "projection":
			f.projection, err = asDoc(req.name, e.Key, e.Value)
		case "let":
			f.let, err = asDoc(req.name, e.Key, e.Value)
		case "hint":
			f.hint = e.Value
		case "skip":
			f.skip, err = asNonNegative(req.name, e.Key, e.Value)
		case "limit":
			f.limit, err = asNonNegative(req.name, e.Key, e.Value)
		case "batchSize":
			f.batchSize, err = asNonNegative(req.name, e.Key, e.Value)
		case "singleBatch":
			f.singleBatch, err = asBool(req.name, e.Key, e.Value)
		case "collation":
			err = notSupported("collations")
		case "min", "max", "returnKey", "showRecordId", "tailable", "awaitData", "oplogReplay":
			if value.Truthy(e.Value) {
				err = notSupported("the find option '" + e.Key + "'")
			}
		case "noCursorTimeout", "allowPartialResults", "allowDiskUse", "readOnce", "$_requestResumeToken", "$_resumeAfter":
		default:
			return false, nil
		}
		return true, err
	})
	return f, err
}

func (s *Server) cmdFind(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	f, err := parseFind(req)
	if err != nil {
		return nil, err
	}
	ns := req.db + "." + name
	env, vars, err := s.env(req, f.let)
	if err != nil {
		return nil, err
	}
	m, err := match.Compile(f.filter, &match.Options{Vars: vars})
	if err != nil {
		return nil, err
	}
	natural, sortSpec, err := naturalOrder(f.sort)
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
	if len(f.projection) > 0 {
		if proj, err = projection.Compile(f.projection, projection.Find, vars...); err != nil {
			return nil, err
		}
	}
	if natural != 0 {
		f.hint = bson.D{{Key: "$natural", Value: int32(natural)}}
	}
	c := s.store.Collection(req.db, name)
	if c == nil {
		return cursorReply("firstBatch", nil, 0, ns), nil
	}
	q := &storage.Query{Filter: f.filter, Matcher: m, Env: env, Hint: f.hint, Positions: proj != nil}
	if srt == nil && f.limit > 0 && natural >= 0 {
		q.Limit = int(f.skip + f.limit)
	}
	var hits []storage.Hit
	if err := c.Read(func(tx *storage.Tx) error {
		hits, _, err = tx.Find(q)
		return err
	}); err != nil {
		return nil, err
	}
	if natural < 0 {
		slices.Reverse(hits)
	}
	keep := 0 // with a limit, only the first skip+limit sorted documents are needed
	if f.limit > 0 {
		keep = int(f.skip + f.limit)
	}
	if hits, err = sortHits(hits, srt, keep); err != nil {
		return nil, err
	}
	hits = window(hits, f.skip, f.limit)
	docs := make([]bson.Raw, 0, len(hits))
	for _, h := range hits {
		if proj == nil {
			docs = append(docs, h.Rec.Raw)
			continue
		}
		out, err := proj.Apply(h.Rec.Doc, &projection.Context{Env: env, Positional: h.Pos})
		if err != nil {
			return nil, err
		}
		raw, err := value.Encode(out)
		if err != nil {
			return nil, mongoerr.Newf(mongoerr.BadValue, "%v", err)
		}
		docs = append(docs, raw)
	}
	batchSize := int(f.batchSize)
	if _, given := value.Lookup(req.body, "batchSize"); given && batchSize == 0 {
		return cursorReply("firstBatch", nil, s.cursors.open(ns, docs), ns), nil
	}
	return s.openCursor(ns, docs, batchSize, f.singleBatch), nil
}

// naturalOrder splits {$natural: 1 | -1} from a find sort: MongoDB reads it as a request
// for a collection scan in insertion order (or its reverse), and it cannot be combined
// with other sort keys.
func naturalOrder(sort bson.D) (int, bson.D, error) {
	for i, e := range sort {
		if e.Key != "$natural" {
			continue
		}
		if len(sort) > 1 {
			return 0, nil, mongoerr.Newf(mongoerr.BadValue, "$natural sort cannot be combined with other sort keys")
		}
		dir, ok := value.ToInt64(e.Value)
		if !ok || (dir != 1 && dir != -1) {
			return 0, nil, mongoerr.Newf(mongoerr.BadValue, "$natural sort must be 1 or -1")
		}
		return int(dir), append(sort[:i:i], sort[i+1:]...), nil
	}
	return 0, sort, nil
}

// sortHits orders hits by srt (stable), keeping only the first k when k > 0.
func sortHits(hits []storage.Hit, srt *sorter.Sorter, k int) ([]storage.Hit, error) {
	if srt == nil || len(hits) < 2 {
		return hits, nil
	}
	type keyed struct {
		key sorter.Key
		hit storage.Hit
	}
	ks := make([]keyed, len(hits))
	for i, h := range hits {
		key, err := srt.Key(h.Rec.Doc)
		if err != nil {
			return nil, err
		}
		ks[i] = keyed{key, h}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return srt.CompareKeys(a.key, b.key) })
	if k > 0 && k < len(ks) {
		ks = ks[:k]
	}
	out := hits[:len(ks)]
	for i := range ks {
		out[i] = ks[i].hit
	}
	return out, nil
}

func window(hits []storage.Hit, skip, limit int64) []storage.Hit {
	if skip >= int64(len(hits)) {
		return nil
	}
	hits = hits[skip:]
	if limit > 0 && limit < int64(len(hits)) {
		hits = hits[:limit]
	}
	return hits
}

func (s *Server) cmdGetMore(_ context.Context, req *request) (bson.D, error) {
	id, ok := req.body[0].Value.(int64)
	if !ok {
		return nil, wrongType(req.name, "getMore", req.body[0].Value, " 'long'")
	}
	var coll string
	batchSize := int64(0)
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "collection":
			coll, err = asString(req.name, e.Key, e.Value)
		case "batchSize":
			batchSize, err = asNonNegative(req.name, e.Key, e.Value)
		case "term", "lastKnownCommittedOpTime", "maxTimeMS":
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	ns := req.db + "." + coll
	docs, done, err := s.cursors.next(id, ns, int(batchSize))
	if err != nil {
		return nil, err
	}
	if done {
		id = 0
	}
	return cursorReply("nextBatch", docs, id, ns), nil
}

func (s *Server) cmdKillCursors(_ context.Context, req *request) (bson.D, error) {
	var ids bson.A
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		if e.Key != "cursors" {
			return false, nil
		}
		var err error
		ids, err = asArray(req.name, e.Key, e.Value)
		return true, err
	}); err != nil {
		return nil, err
	}
	killed, notFound := bson.A{}, bson.A{}
	for _, v := range ids {
		id, ok := v.(int64)
		if !ok {
			return nil, wrongType(req.name, "cursors", v, " 'long'")
		}
		if s.cursors.kill(id) {
			killed = append(killed, id)
		} else {
			notFound = append(notFound, id)
		}
	}
	return ok(
		bson.E{Key: "cursorsKilled", Value: killed},
		bson.E{Key: "cursorsNotFound", Value: notFound},
		bson.E{Key: "cursorsAlive", Value: bson.A{}},
		bson.E{Key: "cursorsUnknown", Value: bson.A{}},
	), nil
}

func (s *Server) cmdCount(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	var filter bson.D
	var skip, limit int64
	var hint any
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "query":
			if e.Value != nil {
				filter, err = asDoc(req.name, e.Key, e.Value)
			}
		case "skip":
			skip, err = asNonNegative(req.name, e.Key, e.Value)
		case "limit":
			limit, err = asInt64(req.name, e.Key, e.Value)
			if limit < 0 {
				limit = -limit
			}
		case "hint":
			hint = e.Value
		case "collation":
			err = notSupported("collations")
		case "fields":
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	c := s.store.Collection(req.db, name)
	if c == nil {
		return ok(bson.E{Key: "n", Value: int32(0)}), nil
	}
	m, err := match.Compile(filter, nil)
	if err != nil {
		return nil, err
	}
	env, _, _ := s.env(req, nil)
	n := 0
	if err := c.Read(func(tx *storage.Tx) error {
		if len(filter) == 0 && hint == nil {
			n = tx.Len()
			return nil
		}
		q := &storage.Query{Filter: filter, Matcher: m, Env: env, Hint: hint}
		if limit > 0 {
			q.Limit = int(skip + limit)
		}
		hits, _, err := tx.Find(q)
		n = len(hits)
		return err
	}); err != nil {
		return nil, err
	}
	n = max(0, n-int(skip))
	if limit > 0 {
		n = min(n, int(limit))
	}
	return ok(bson.E{Key: "n", Value: int32(n)}), nil
}

func (s *Server) cmdDistinct(_ context.Context, req *request) (bson.D, error) {
	name, err := collectionName(req)
	if err != nil {
		return nil, err
	}
	var key string
	var filter bson.D
	var hint any
	if err := fields(req.name, req.body, func(e bson.E) (bool, error) {
		var err error
		switch e.Key {
		case "key":
			key, err = asString(req.name, e.Key, e.Value)
		case "query":
			if e.Value != nil {
				filter, err = asDoc(req.name, e.Key, e.Value)
			}
		case "hint":
			hint = e.Value
		case "collation":
			err = notSupported("collations")
		default:
			return false, nil
		}
		return true, err
	}); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, mongoerr.Newf(40414, "BSON field 'distinct.key' is missing but a required field")
	}
	values := bson.A{}
	c := s.store.Collection(req.db, name)
	if c == nil {
		return ok(bson.E{Key: "values", Value: values}), nil
	}
	m, err := match.Compile(filter, nil)
	if err != nil {
		return nil, err
	}
	env, _, _ := s.env(req, nil)
	var hits []storage.Hit
	if err := c.Read(func(tx *storage.Tx) error {
		hits, _, err = tx.Find(&storage.Query{Filter: filter, Matcher: m, Env: env, Hint: hint})
		return err
	}); err != nil {
		return nil, err
	}
	path := splitPath(key)
	for _, h := range hits {
		distinctValues(h.Rec.Doc, path, func(v any) {
			i, found := slices.BinarySearchFunc(values, v, value.Compare)
			if !found {
				values = slices.Insert(values, i, v)
			}
		})
	}
	return ok(bson.E{Key: "values", Value: values}), nil
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

// distinctValues calls fn with each value distinct counts at path: the value itself, or
// each element of an array, through arrays of documents on the way. Missing values are
// not counted.
func distinctValues(v any, path []string, fn func(any)) {
	if len(path) == 0 {
		if arr, ok := v.(bson.A); ok {
			for _, e := range arr {
				fn(e)
			}
			return
		}
		fn(v)
		return
	}
	switch x := v.(type) {
	case bson.D:
		if child, ok := value.Lookup(x, path[0]); ok {
			distinctValues(child, path[1:], fn)
		}
	case bson.A:
		for _, e := range x {
			if d, ok := e.(bson.D); ok {
				distinctValues(d, path, fn)
			}
		}
	}
}

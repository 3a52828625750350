package agg

import (
	"math"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$graphLookup", parseGraphLookup)
}

// graphLookupStage runs a breadth-first search over a foreign collection for each input
// document: from the startWith values, it finds the documents whose connectToField equals
// one of them, then continues from those documents' connectFromField values.
type graphLookupStage struct {
	from        string
	as          []string
	startWith   *expr.Expr
	connectFrom []string
	connectTo   string
	depthField  []string // nil when not asked for
	maxDepth    int64    // -1 for no limit
	restrict    bson.D   // restrictSearchWithMatch, nil when absent
	vars        []string // for compiling each level's query
}

func parseGraphLookup(spec any, o *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "the $graphLookup stage specification must be an object, but found %s", value.TypeName(spec))
	}
	fromV, hasFrom := value.Lookup(d, "from")
	if !hasFrom {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "missing 'from' option to $graphLookup stage specification: %s", value.Format(d))
	}
	s := &graphLookupStage{maxDepth: -1, vars: o.Vars}
	switch f := fromV.(type) {
	case string:
		if f == "" {
			return nil, mongoerr.Newf(mongoerr.InvalidNamespace, "invalid $graphLookup namespace: %s.", o.DB)
		}
		s.from = f
	case bson.D:
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "$graphLookup with syntax {from: {db:<>, coll:<>},..} is not supported")
	default:
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "$graphLookup 'from' field must be a string, but found %s", value.TypeName(fromV))
	}
	var as, connectFrom, connectTo string
	for _, e := range d {
		switch e.Key {
		case "startWith":
			sw, err := expr.Compile(e.Value, o.Vars...)
			if err != nil {
				return nil, err
			}
			s.startWith = sw
			continue
		case "maxDepth":
			n, err := graphMaxDepth(e.Value)
			if err != nil {
				return nil, err
			}
			s.maxDepth = n
			continue
		case "restrictSearchWithMatch":
			f, ok := e.Value.(bson.D)
			if !ok {
				return nil, mongoerr.Newf(40185, "restrictSearchWithMatch must be an object, found %s", value.TypeName(e.Value))
			}
			if _, err := match.Compile(f, &match.Options{Vars: o.Vars}); err != nil {
				me := mongoerr.From(err)
				return nil, mongoerr.Newf(me.Code, "Failed to parse 'restrictSearchWithMatch' option to $graphLookup :: caused by :: %s", me.Message)
			}
			s.restrict = f
			continue
		case "from", "as", "connectFromField", "connectToField", "depthField":
		default:
			return nil, mongoerr.Newf(40104, "Unknown argument to $graphLookup: %s", e.Key)
		}
		str, ok := e.Value.(string)
		if !ok {
			return nil, mongoerr.Newf(40103, "expected string as argument for %s, found: %s", e.Key, value.TypeName(e.Value))
		}
		switch e.Key {
		case "as":
			as = str
		case "connectFromField":
			connectFrom = str
		case "connectToField":
			connectTo = str
		case "depthField":
			p, err := stagePath(str)
			if err != nil {
				return nil, err
			}
			s.depthField = p
		}
	}
	if as == "" || s.startWith == nil || connectFrom == "" || connectTo == "" {
		return nil, mongoerr.Newf(40105, "$graphLookup requires 'from', 'as', 'startWith', 'connectFromField', and 'connectToField' to be specified.")
	}
	var err error
	if s.as, err = stagePath(as); err != nil {
		return nil, err
	}
	if s.connectFrom, err = stagePath(connectFrom); err != nil {
		return nil, err
	}
	if _, err = stagePath(connectTo); err != nil {
		return nil, err
	}
	s.connectTo = connectTo
	return s, nil
}

// graphMaxDepth reads maxDepth: a non-negative number with an integral value.
func graphMaxDepth(v any) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int32:
		n = int64(x)
	case int64:
		n = x
	default:
		if !value.IsNumber(v) {
			return 0, mongoerr.Newf(40100, "maxDepth must be numeric, found type: %s", value.TypeName(v))
		}
		f, _ := value.ToFloat64(v)
		switch {
		case math.IsNaN(f):
		case f >= math.MaxInt64:
			n = math.MaxInt64
		case f <= math.MinInt64:
			n = math.MinInt64
		default:
			n = int64(f)
		}
		if n >= 0 && float64(n) != f {
			return 0, mongoerr.Newf(40102, "maxDepth could not be represented as a long long: %d", n)
		}
	}
	if n < 0 {
		return 0, mongoerr.Newf(40101, "maxDepth requires a nonnegative argument, found: %d", n)
	}
	return n, nil
}

func (s *graphLookupStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		coll := foreignCollection(c, s.from)
		for d, err := range in {
			var found bson.A
			if err == nil {
				found, err = s.search(c, coll, d)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(setNested(d, s.as, found), nil) {
				return
			}
		}
	}
}

// search runs the breadth-first search for one input document. A value is queried once:
// querying it again could only find documents already visited.
func (s *graphLookupStage) search(c *Context, coll *storage.Collection, d bson.D) (bson.A, error) {
	out := bson.A{}
	start, err := s.startWith.Eval(c.Env, d)
	if err != nil || coll == nil {
		return out, err
	}
	frontier := newJoinValueSet()
	if arr, ok := start.(bson.A); ok {
		for _, v := range arr {
			frontier.add(v)
		}
	} else if !value.IsMissing(start) {
		frontier.add(start)
	}
	queried := newJoinValueSet()
	visited := newJoinValueSet() // of _id values
	for depth := int64(0); s.maxDepth < 0 || depth <= s.maxDepth; depth++ {
		var pending bson.A
		for _, v := range frontier.list {
			if queried.add(v) {
				pending = append(pending, v)
			}
		}
		if len(pending) == 0 {
			break
		}
		hits, err := s.level(c, coll, pending)
		if err != nil {
			return nil, err
		}
		next := newJoinValueSet()
		for _, doc := range hits {
			if !visited.add(value.Get(doc, "_id")) {
				continue
			}
			if s.depthField != nil {
				doc = setNested(doc, s.depthField, depth)
			}
			visitPath(doc, s.connectFrom, func(v any) { next.add(v) })
			out = append(out, doc)
		}
		frontier = next
	}
	return out, nil
}

// level queries the documents whose connectToField matches one of the values. As in
// mongod, a null value matches only documents that have the field (not missing ones), and
// null and undefined do not match each other.
func (s *graphLookupStage) level(c *Context, coll *storage.Collection, vals bson.A) ([]bson.D, error) {
	hasNull, hasUndefined := false, false
	for _, v := range vals {
		switch v.(type) {
		case nil:
			hasNull = true
		case bson.Undefined:
			hasUndefined = true
		}
	}
	conds := bson.A{}
	if s.restrict != nil {
		conds = append(conds, s.restrict)
	}
	conds = append(conds, bson.D{{Key: s.connectTo, Value: bson.D{{Key: "$in", Value: vals}}}})
	if hasNull || hasUndefined {
		conds = append(conds, bson.D{{Key: s.connectTo, Value: bson.D{{Key: "$exists", Value: true}}}})
		switch {
		case !hasUndefined:
			conds = append(conds, bson.D{{Key: s.connectTo, Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$type", Value: "undefined"}}}}}})
		case !hasNull:
			conds = append(conds, bson.D{{Key: s.connectTo, Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$type", Value: "null"}}}}}})
		}
	}
	filter := bson.D{{Key: "$and", Value: conds}}
	m, err := match.Compile(filter, &match.Options{Vars: s.vars})
	if err != nil {
		return nil, err
	}
	var docs []bson.D
	err = coll.Read(func(tx *storage.Tx) error {
		hits, _, err := tx.Find(&storage.Query{Filter: filter, Matcher: m, Env: c.Env})
		docs = make([]bson.D, len(hits))
		for i, h := range hits {
			docs[i] = h.Rec.Doc
		}
		return err
	})
	return docs, err
}

package agg

import (
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$lookup", parseLookup)
}

// letVar is one variable of a $lookup's let, evaluated against each input document.
type letVar struct {
	name string
	e    *expr.Expr
}

// lookupStage joins each input document with the foreign documents that match it, in
// one of three forms: equality (localField/foreignField), a correlated sub-pipeline (let
// and pipeline), or both (the equality first, then the pipeline).
type lookupStage struct {
	from string // "" when the sub-pipeline makes its own input with $documents
	as   []string
	// local and foreign are the equality form's fields; local is nil without it.
	local   []string
	foreign string
	lets    []letVar
	// pipeline is the sub-pipeline, compiled once; nil for the equality form alone.
	pipeline *Pipeline
}

func parseLookup(spec any, o *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "the $lookup stage specification must be an object, but found %s", value.TypeName(spec))
	}
	s := &lookupStage{}
	// mongod checks the namespace before the other arguments.
	fromV, hasFrom := value.Lookup(d, "from")
	pipeV, hasPipeline := value.Lookup(d, "pipeline")
	if !hasFrom {
		if !hasPipeline {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "must specify 'pipeline' when 'from' is empty")
		}
		arr, err := subPipelineSpec(pipeV)
		if err != nil {
			return nil, err
		}
		if !startsWithDocuments(arr) {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "$lookup stage without explicit collection must have a pipeline with $documents as first stage")
		}
	} else {
		switch f := fromV.(type) {
		case string:
			if f == "" {
				return nil, mongoerr.Newf(mongoerr.InvalidNamespace, "invalid $lookup namespace: %s.", o.DB)
			}
			s.from = f
		case bson.D:
			db, _ := value.Lookup(f, "db")
			coll, _ := value.Lookup(f, "coll")
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "$lookup with syntax {from: {db:<>, coll:<>},..} is not supported for db: %v and coll: %v", db, coll)
		default:
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "$lookup 'from' field must be a string, but found %s", value.TypeName(fromV))
		}
	}

	var as, local, foreign string
	var pipeline bson.A
	var lets bson.D
	hasLet := false
	for _, e := range d {
		switch e.Key {
		case "from":
			continue
		case "pipeline":
			arr, err := subPipelineSpec(e.Value)
			if err != nil {
				return nil, err
			}
			pipeline = arr
			continue
		case "let":
			l, ok := e.Value.(bson.D)
			if !ok {
				return nil, mongoerr.Newf(mongoerr.FailedToParse, "$lookup argument '%s' must be an object, is type %s", value.FormatElem(e.Key, e.Value), value.TypeName(e.Value))
			}
			lets, hasLet = l, true
			continue
		}
		str, ok := e.Value.(string)
		if !ok {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "$lookup argument '%s' must be a string, found %s: %s", e.Key, value.FormatElem(e.Key, e.Value), value.TypeName(e.Value))
		}
		switch e.Key {
		case "as":
			as = str
		case "localField":
			local = str
		case "foreignField":
			foreign = str
		default:
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "unknown argument to $lookup: %s", e.Key)
		}
	}
	if as == "" {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "must specify 'as' field for a $lookup")
	}
	if hasPipeline {
		if (local == "") != (foreign == "") {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "$lookup requires both or neither of 'localField' and 'foreignField' to be specified")
		}
	} else {
		if local == "" || foreign == "" {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified")
		}
		if hasLet {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "$lookup with a 'let' argument must also specify 'pipeline'")
		}
	}
	var err error
	if s.as, err = stagePath(as); err != nil {
		return nil, err
	}
	if local != "" {
		if s.local, err = stagePath(local); err != nil {
			return nil, err
		}
		if _, err = stagePath(foreign); err != nil {
			return nil, err
		}
		s.foreign = foreign
	}
	names := make([]string, 0, len(lets))
	for _, e := range lets {
		if err := checkLetName(e.Key); err != nil {
			return nil, err
		}
		// let expressions read the outer document and the outer variables only.
		le, err := expr.Compile(e.Value, o.Vars...)
		if err != nil {
			return nil, err
		}
		s.lets = append(s.lets, letVar{name: e.Key, e: le})
		names = append(names, e.Key)
	}
	if hasPipeline {
		if s.from != "" && startsWithDocuments(pipeline) {
			return nil, mongoerr.Newf(mongoerr.InvalidNamespace, "'$documents' can only be run with {aggregate: 1}")
		}
		if s.pipeline, err = Compile(pipeline, o.sub("$lookup", names...)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// checkLetName checks a variable name a user defines, with mongod's rules and codes: it
// starts with a lowercase letter or a non-ASCII character and goes on with letters,
// digits and '_'. CURRENT is the one system variable users may set.
func checkLetName(name string) error {
	if name == "CURRENT" {
		return nil
	}
	if name == "" {
		return mongoerr.Newf(16866, "empty variable names are not allowed")
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r > 127 ||
			i > 0 && (r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
		if !ok {
			if i == 0 {
				return mongoerr.Newf(16867, "'%s' starts with an invalid character for a user variable name", name)
			}
			return mongoerr.Newf(16868, "'%s' contains an invalid character for a variable name: '%c'", name, r)
		}
	}
	return nil
}

func (s *lookupStage) subPipelines() []*Pipeline { return []*Pipeline{s.pipeline} }

func (s *lookupStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		coll := foreignCollection(c, s.from)
		for d, err := range in {
			var matches bson.A
			if err == nil {
				matches, err = s.lookup(c, coll, d)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(setNested(d, s.as, matches), nil) {
				return
			}
		}
	}
}

// lookup returns the foreign documents joined to d.
func (s *lookupStage) lookup(c *Context, coll *storage.Collection, d bson.D) (bson.A, error) {
	var j *join
	if s.local != nil {
		var err error
		if j, err = equalityJoin(d, s.local, s.foreign); err != nil {
			return nil, err
		}
	}
	if s.pipeline == nil {
		return readJoin(c, coll, j)
	}
	sub := c
	if len(s.lets) > 0 {
		var err error
		if sub, err = s.letContext(c, d); err != nil {
			return nil, err
		}
	}
	out := bson.A{}
	for r, err := range s.pipeline.run(sub, coll, j) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// letContext returns the context of d's sub-pipeline run: the outer variables plus the
// let variables evaluated against d.
func (s *lookupStage) letContext(c *Context, d bson.D) (*Context, error) {
	var env expr.Env
	if c.Env != nil {
		env = *c.Env
	}
	outer := env.Vars
	env.Vars = make(map[string]any, len(outer)+len(s.lets))
	for k, v := range outer {
		env.Vars[k] = v
	}
	for _, l := range s.lets {
		v, err := l.e.Eval(c.Env, d)
		if err != nil {
			return nil, err
		}
		env.Vars[l.name] = v
	}
	return &Context{Env: &env, Store: c.Store, DB: c.DB}, nil
}

// equalityJoin builds the query of the equality form for d, as mongod does: every value
// at localField (array elements one by one; missing counts as null) joined with
// {foreignField: {$eq: v}} for one value, $in for several, and an $or of $eq when one is a
// regular expression (which $in would apply as a pattern).
func equalityJoin(d bson.D, local []string, foreign string) (*join, error) {
	var vals bson.A
	hasRegex := false
	visitPath(d, local, func(v any) {
		if _, ok := v.(bson.Regex); ok {
			hasRegex = true
		}
		vals = append(vals, v)
	})
	var filter bson.D
	switch {
	case len(vals) == 0:
		filter = bson.D{{Key: foreign, Value: bson.D{{Key: "$eq", Value: nil}}}}
	case len(vals) == 1:
		filter = bson.D{{Key: foreign, Value: bson.D{{Key: "$eq", Value: vals[0]}}}}
	case !hasRegex:
		filter = bson.D{{Key: foreign, Value: bson.D{{Key: "$in", Value: vals}}}}
	default:
		ors := make(bson.A, len(vals))
		for i, v := range vals {
			ors[i] = bson.D{{Key: foreign, Value: bson.D{{Key: "$eq", Value: v}}}}
		}
		filter = bson.D{{Key: "$or", Value: ors}}
	}
	m, err := match.Compile(filter, nil)
	if err != nil {
		return nil, err
	}
	return &join{filter: filter, matcher: m}, nil
}

// readJoin returns the documents of coll that match the join, through the foreign
// field's index when there is one.
func readJoin(c *Context, coll *storage.Collection, j *join) (bson.A, error) {
	out := bson.A{}
	if coll == nil {
		return out, nil
	}
	err := coll.Read(func(tx *storage.Tx) error {
		hits, _, err := tx.Find(&storage.Query{Filter: j.filter, Matcher: j.matcher, Env: c.Env})
		if err != nil {
			return err
		}
		out = make(bson.A, len(hits))
		for i, h := range hits {
			out[i] = h.Rec.Doc
		}
		return nil
	})
	return out, err
}

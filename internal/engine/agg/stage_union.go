package agg

import (
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$unionWith", parseUnionWith)
}

// unionStage passes its input, then the documents of a sub-pipeline run over another
// collection (or over the documents its $documents makes).
type unionStage struct {
	coll     string // "" when the sub-pipeline opens with $documents
	pipeline *Pipeline
}

func parseUnionWith(spec any, o *Options) (stage, error) {
	s := &unionStage{}
	var pipeline bson.A
	switch x := spec.(type) {
	case string:
		s.coll = x
	case bson.D:
		hasColl, hasPipeline := false, false
		for _, e := range x {
			switch e.Key {
			case "coll":
				name, ok := e.Value.(string)
				if !ok {
					return nil, mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '$unionWith.coll' is the wrong type '%s', expected type 'string'", value.TypeName(e.Value))
				}
				s.coll, hasColl = name, true
			case "pipeline":
				arr, ok := e.Value.(bson.A)
				if !ok {
					return nil, mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '$unionWith.pipeline' is the wrong type '%s', expected type 'array'", value.TypeName(e.Value))
				}
				for i, st := range arr {
					if _, ok := st.(bson.D); !ok {
						return nil, mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '$unionWith.pipeline.%d' is the wrong type '%s', expected type 'object'", i, value.TypeName(st))
					}
				}
				pipeline, hasPipeline = arr, true
			default:
				return nil, mongoerr.Newf(40415, "BSON field '$unionWith.%s' is an unknown field.", e.Key)
			}
		}
		if !hasColl && (!hasPipeline || !startsWithDocuments(pipeline)) {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "$unionWith stage without explicit collection must have a pipeline with $documents as first stage")
		}
	default:
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "the $unionWith stage specification must be an object or string, but found %s", value.TypeName(spec))
	}
	if s.coll == "" && !startsWithDocuments(pipeline) {
		return nil, mongoerr.Newf(mongoerr.InvalidNamespace, "invalid $unionWith namespace: %s.", o.DB)
	}
	if s.coll != "" && startsWithDocuments(pipeline) {
		return nil, mongoerr.Newf(mongoerr.InvalidNamespace, "'$documents' can only be run with {aggregate: 1}")
	}
	p, err := Compile(pipeline, o.sub("$unionWith"))
	if err != nil {
		return nil, err
	}
	s.pipeline = p
	return s, nil
}

func (s *unionStage) subPipelines() []*Pipeline { return []*Pipeline{s.pipeline} }

func (s *unionStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(d, nil) {
				return
			}
		}
		for d, err := range s.pipeline.run(c, foreignCollection(c, s.coll), nil) {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

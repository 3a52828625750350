package agg

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$unwind", parseUnwind)
}

// unwindStage outputs one document per element of the array at path.
type unwindStage struct {
	path     []string
	index    []string // includeArrayIndex, nil when not asked for
	preserve bool     // preserveNullAndEmptyArrays
}

func parseUnwind(spec any, _ *Options) (stage, error) {
	var path string
	s := &unwindStage{}
	switch x := spec.(type) {
	case string:
		path = x
	case bson.D:
		for _, e := range x {
			switch e.Key {
			case "path":
				p, ok := e.Value.(string)
				if !ok {
					return nil, mongoerr.Newf(28808, "expected a string as the path for $unwind stage, got %s", value.TypeName(e.Value))
				}
				path = p
			case "preserveNullAndEmptyArrays":
				b, ok := e.Value.(bool)
				if !ok {
					return nil, mongoerr.Newf(28809, "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage, got %s", value.TypeName(e.Value))
				}
				s.preserve = b
			case "includeArrayIndex":
				p, ok := e.Value.(string)
				if !ok || p == "" {
					return nil, mongoerr.Newf(28810, "expected a non-empty string for the includeArrayIndex  option to $unwind stage, got %s", value.TypeName(e.Value))
				}
				if strings.HasPrefix(p, "$") {
					return nil, mongoerr.Newf(28822, "includeArrayIndex option to $unwind stage should not be prefixed with a '$': %s", p)
				}
				idx, err := stagePath(p)
				if err != nil {
					return nil, err
				}
				s.index = idx
			default:
				return nil, mongoerr.Newf(28811, "unrecognized option to $unwind stage: %s", e.Key)
			}
		}
	default:
		return nil, mongoerr.Newf(15981, "expected either a string or an object as specification for $unwind stage, got %s", value.TypeName(spec))
	}
	if path == "" {
		return nil, mongoerr.Newf(28812, "no path specified to $unwind stage")
	}
	if path[0] != '$' {
		return nil, mongoerr.Newf(28818, "path option to $unwind stage should be prefixed with a '$': %s", path)
	}
	parts, err := stagePath(path[1:])
	if err != nil {
		return nil, err
	}
	s.path = parts
	return s, nil
}

func (s *unwindStage) run(_ *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			if !s.unwind(d, yield) {
				return
			}
		}
	}
}

// unwind yields the documents d unwinds to; it reports false when the consumer stopped.
func (s *unwindStage) unwind(d bson.D, yield func(bson.D, error) bool) bool {
	v := nestedValue(d, s.path)
	arr, isArray := v.(bson.A)
	switch {
	case isArray && len(arr) > 0:
		for i, el := range arr {
			out := replaceNested(d, s.path, el)
			if s.index != nil {
				out = setNested(out, s.index, int64(i))
			}
			if !yield(out, nil) {
				return false
			}
		}
		return true
	case isArray:
		// An empty array is dropped, or preserved without the field.
		if !s.preserve {
			return true
		}
		d = replaceNested(d, s.path, value.Missing)
	case value.IsNullish(v):
		if !s.preserve {
			return true
		}
	}
	// A value that is not an array passes as a one-element array would, with a null index.
	if s.index != nil {
		d = setNested(d, s.index, nil)
	}
	return yield(d, nil)
}

// nestedValue returns the value at path when every step before the last is a document
// (an array on the way means no value, unlike query paths).
func nestedValue(d bson.D, path []string) any {
	for i, f := range path {
		v, ok := value.Lookup(d, f)
		if !ok {
			return value.Missing
		}
		if i == len(path)-1 {
			return v
		}
		if d, ok = v.(bson.D); !ok {
			return value.Missing
		}
	}
	return value.Missing
}

// replaceNested returns a copy of d with the existing field at path (reached through
// documents, see nestedValue) set to v, or removed when v is missing.
func replaceNested(d bson.D, path []string, v any) bson.D {
	out := make(bson.D, 0, len(d))
	for _, e := range d {
		if e.Key != path[0] {
			out = append(out, e)
			continue
		}
		switch {
		case len(path) > 1:
			child, _ := e.Value.(bson.D)
			e.Value = replaceNested(child, path[1:], v)
		case value.IsMissing(v):
			continue
		default:
			e.Value = v
		}
		out = append(out, e)
	}
	return out
}

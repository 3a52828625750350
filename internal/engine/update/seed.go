package update

import (
	"slices"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ValidateReplacement checks a replacement document: no $-prefixed top-level field names
// (code 52 DollarPrefixedFieldName; DBRef fields $ref/$id/$db only in DBRef order), and an
// _id, if present, that can be stored (code 53 InvalidIdField for an array, regex or
// undefined). Field names with dots or dollars below the top level are allowed, as since
// MongoDB 5.0.
func ValidateReplacement(repl bson.D) error {
	for i, e := range repl {
		if strings.HasPrefix(e.Key, "$") {
			if err := checkDBRefField(repl, i); err != nil {
				return err
			}
		}
		if e.Key == "_id" {
			if err := ValidateID(e.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDBRefField applies mongod's rule for a $-prefixed name at position i: only $ref
// (a string, followed by $id), $id (after $ref) and $db (a string, after $id) are allowed.
func checkDBRefField(d bson.D, i int) error {
	key := func(j int) string {
		if j < 0 || j >= len(d) {
			return ""
		}
		return d[j].Key
	}
	name := d[i].Key
	j := i
	if name == "$db" {
		if _, ok := d[j].Value.(string); !ok {
			return mongoerr.Newf(mongoerr.InvalidDBRef, "The DBRef $db field must be a String, not a %s", value.TypeName(d[j].Value))
		}
		if key(j-1) != "$id" {
			return mongoerr.Newf(mongoerr.InvalidDBRef, "Found $db field without a $id before it, which is invalid.")
		}
		j--
		name = "$id"
	}
	if name == "$id" {
		if key(j-1) != "$ref" {
			return mongoerr.Newf(mongoerr.InvalidDBRef, "Found $id field without a $ref before it, which is invalid.")
		}
		j--
		name = "$ref"
	}
	if name == "$ref" {
		if _, ok := d[j].Value.(string); !ok {
			return mongoerr.Newf(mongoerr.InvalidDBRef, "The DBRef $ref field must be a String, not a %s", value.TypeName(d[j].Value))
		}
		if key(j+1) != "$id" {
			return mongoerr.Newf(mongoerr.InvalidDBRef, "The DBRef $ref field must be followed by a $id field")
		}
		return nil
	}
	return mongoerr.Newf(mongoerr.DollarPrefixedFieldName,
		"The dollar ($) prefixed field '%s' in '%s' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.",
		d[i].Key, d[i].Key)
}

// equality is one field: value condition of a filter that an upsert copies.
type equality struct {
	path string
	val  any
}

// UpsertSeed builds the document an upsert starts from: the filter's equality conditions (field: value, {$eq: v}, inside
// top-level $and, and single-clause $or per MongoDB), with dotted paths expanded into embedded documents; an equality
// on _id becomes the _id. Conflicting paths error per MongoDB (e.g. {a: 1, "a.b": 2}).
//
// As in mongod, the filter is read the way the query planner normalizes it: nested $and
// and single-clause $or are flattened, a single-value $in and each value of $all are
// equalities, and the fields are added in path order (with _id first). Two equalities on
// one path, or on a path and its prefix, are error 54 NotSingleValueField; $expr anywhere in
// the filter is error 224 QueryFeatureNotAllowed.
func UpsertSeed(filter bson.D) (bson.D, error) {
	var eqs []equality
	if err := collectEqualities(filter, &eqs); err != nil {
		return nil, err
	}
	// Sorting puts a prefix before its extensions ("a" < "a.b"), so checking each path
	// against the prefixes already accepted finds every conflict.
	slices.SortStableFunc(eqs, func(x, y equality) int { return strings.Compare(x.path, y.path) })
	seen := make(map[string]bool, len(eqs))
	for _, e := range eqs {
		parts := strings.Split(e.path, ".")
		for n := len(parts); n >= 1; n-- {
			prefix := strings.Join(parts[:n], ".")
			if !seen[prefix] {
				continue
			}
			if n == len(parts) {
				return nil, mongoerr.Newf(mongoerr.NotSingleValueField, "cannot infer query fields to set, path '%s' is matched twice", e.path)
			}
			return nil, mongoerr.Newf(mongoerr.NotSingleValueField,
				"cannot infer query fields to set, both paths '%s' and '%s' are matched", e.path, prefix)
		}
		seen[e.path] = true
	}
	doc := bson.D{}
	for _, e := range eqs {
		doc = setPath(doc, strings.Split(e.path, "."), value.DeepCopy(e.val))
	}
	if i := slices.IndexFunc(doc, func(e bson.E) bool { return e.Key == "_id" }); i > 0 {
		id := doc[i]
		copy(doc[1:i+1], doc[:i])
		doc[0] = id
	}
	return doc, nil
}

// ReplacementUpsertID returns the _id a replacement-style upsert takes from its filter
// (found reports whether there is one). Unlike UpsertSeed only _id is extracted, so
// conditions on other fields never conflict; an equality on a sub-path of _id ("_id.x")
// is error 111 NotExactValueField, two equalities on _id are error 54, and $expr is error
// 224 as for every upsert.
func ReplacementUpsertID(filter bson.D) (id any, found bool, err error) {
	var eqs []equality
	if err := collectEqualities(filter, &eqs); err != nil {
		return nil, false, err
	}
	for _, e := range eqs {
		switch {
		case e.path == "_id":
			if found {
				return nil, false, mongoerr.Newf(mongoerr.NotSingleValueField, "cannot infer query fields to set, path '_id' is matched twice")
			}
			id, found = value.DeepCopy(e.val), true
		case strings.HasPrefix(e.path, "_id."):
			return nil, false, mongoerr.Newf(mongoerr.NotExactValueField,
				"field at '_id' must be exactly specified, field at sub-path '%s'found", e.path)
		}
	}
	return id, found, nil
}

// setPath stores v at a dotted path of doc, creating documents along the way. The seed's
// paths never conflict, so every existing step is a document this function created.
func setPath(doc bson.D, parts []string, v any) bson.D {
	if len(parts) == 1 {
		return append(doc, bson.E{Key: parts[0], Value: v})
	}
	for i := range doc {
		if doc[i].Key == parts[0] {
			if sub, ok := doc[i].Value.(bson.D); ok {
				doc[i].Value = setPath(sub, parts[1:], v)
				return doc
			}
		}
	}
	return append(doc, bson.E{Key: parts[0], Value: setPath(bson.D{}, parts[1:], v)})
}

// collectEqualities gathers the equality conditions of a filter (see UpsertSeed).
func collectEqualities(filter bson.D, out *[]equality) error {
	for _, e := range filter {
		switch e.Key {
		case "$and":
			arr, err := clauses(e)
			if err != nil {
				return err
			}
			for _, c := range arr {
				if err := collectEqualities(c, out); err != nil {
					return err
				}
			}
			continue
		case "$or", "$nor":
			arr, err := clauses(e)
			if err != nil {
				return err
			}
			for _, c := range arr {
				if err := checkNoExpr(c); err != nil {
					return err
				}
			}
			// A single-clause $or is that clause.
			if e.Key == "$or" && len(arr) == 1 {
				if err := collectEqualities(arr[0], out); err != nil {
					return err
				}
			}
			continue
		case "$expr":
			return exprInUpsert()
		}
		if strings.HasPrefix(e.Key, "$") {
			continue
		}
		collectFieldEqualities(e.Key, e.Value, out)
	}
	return nil
}

// collectFieldEqualities adds the equalities of one field condition.
func collectFieldEqualities(path string, cond any, out *[]equality) {
	d, ok := cond.(bson.D)
	if !ok || !isOperatorDoc(d) {
		if _, isRegex := cond.(bson.Regex); !isRegex {
			*out = append(*out, equality{path, cond})
		}
		return
	}
	for _, op := range d {
		switch op.Key {
		case "$eq":
			*out = append(*out, equality{path, op.Value})
		case "$in":
			// The planner rewrites a one-value $in as an equality.
			if arr, ok := op.Value.(bson.A); ok && len(arr) == 1 {
				if _, isRegex := arr[0].(bson.Regex); !isRegex {
					*out = append(*out, equality{path, arr[0]})
				}
			}
		case "$all":
			// $all is an $and of equalities, one per value ($elemMatch and regex values aside).
			arr, _ := op.Value.(bson.A)
			for _, v := range arr {
				if _, isRegex := v.(bson.Regex); isRegex {
					continue
				}
				if sub, ok := v.(bson.D); ok && len(sub) > 0 && sub[0].Key == "$elemMatch" {
					continue
				}
				*out = append(*out, equality{path, v})
			}
		}
	}
}

// isOperatorDoc reports whether a field's condition is a document of query operators
// rather than a document to compare with (DBRef documents start with $ref or $id).
func isOperatorDoc(d bson.D) bool {
	if len(d) == 0 || !strings.HasPrefix(d[0].Key, "$") {
		return false
	}
	switch d[0].Key {
	case "$ref", "$id", "$db":
		return false
	}
	return true
}

// clauses returns the documents of a $and, $or or $nor.
func clauses(e bson.E) ([]bson.D, error) {
	arr, ok := e.Value.(bson.A)
	if !ok || len(arr) == 0 {
		return nil, mongoerr.Newf(mongoerr.BadValue, "%s must be a nonempty array", e.Key)
	}
	out := make([]bson.D, len(arr))
	for i, v := range arr {
		if out[i], ok = v.(bson.D); !ok {
			return nil, mongoerr.Newf(mongoerr.BadValue, "%s argument's entries must be objects", e.Key)
		}
	}
	return out, nil
}

// checkNoExpr rejects $expr in a part of the filter that contributes no equalities.
func checkNoExpr(d bson.D) error {
	for _, e := range d {
		switch e.Key {
		case "$expr":
			return exprInUpsert()
		case "$and", "$or", "$nor":
			arr, _ := e.Value.(bson.A)
			for _, v := range arr {
				if sub, ok := v.(bson.D); ok {
					if err := checkNoExpr(sub); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func exprInUpsert() error {
	return mongoerr.Newf(mongoerr.QueryFeatureNotAllowed, "$expr is not allowed in the query predicate for an upsert")
}

package projection

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// astKind is the kind of a node of the parsed projection.
type astKind uint8

const (
	astPath       astKind = iota // an inner node: a field with sub-projections
	astBool                      // inclusion or exclusion of the field
	astExpr                      // a computed field
	astSlice                     // find's {$slice: ...}
	astElemMatch                 // find's {$elemMatch: ...}
	astPositional                // find's "field.$"
)

// astNode is a node of the parsed projection, keyed by path component. Children keep
// the order in which the specification introduced them.
type astNode struct {
	kind    astKind
	names   []string
	kids    []*astNode
	include bool
	expr    *expr.Expr
	hasSkip bool
	skip    int32
	limit   int32
	elem    *match.Matcher
}

func (n *astNode) child(name string) *astNode {
	for i, k := range n.names {
		if k == name {
			return n.kids[i]
		}
	}
	return nil
}

func (n *astNode) removeChild(name string) {
	for i, k := range n.names {
		if k == name {
			n.names = append(n.names[:i], n.names[i+1:]...)
			n.kids = append(n.kids[:i], n.kids[i+1:]...)
			return
		}
	}
}

type projType uint8

const (
	typeUnknown projType = iota
	typeInclusion
	typeExclusion
)

// parser holds the state mongod's projection parser tracks while reading a specification.
type parser struct {
	mode          Mode
	vars          []string
	root          *astNode
	typ           projType
	idSpecified   bool
	idIncluded    bool // {_id: 1} at the top level
	idExcluded    bool // {_id: 0} at the top level
	hasPositional bool
	hasElemMatch  bool
	hasFindSlice  bool
}

// Compile parses a projection specification. vars names the user variables (without "$$")
// its expressions may reference. Errors carry mongod's codes: 31253/31254 for mixing
// inclusion and exclusion, 31249/31250 for path collisions, 31252/31310 for expressions in
// an exclusion projection, 51270 for an empty sub-projection, 51272 for an empty $project,
// 16410 and friends for invalid field paths, the 312xx/313xx family for misused find-only
// operators, and NotImplemented for $meta.
func Compile(spec bson.D, mode Mode, vars ...string) (*Projection, error) {
	if mode != Find && mode != Aggregate {
		return nil, errInternal("unknown projection mode %d", mode)
	}
	p := &parser{mode: mode, vars: vars, root: &astNode{kind: astPath}}
	if mode == Aggregate && len(spec) == 0 {
		return nil, mongoerr.Newf(51272, "Invalid $project :: caused by :: projection specification must have at least one field")
	}
	for _, e := range spec {
		if strings.HasPrefix(e.Key, "_") {
			p.idSpecified = p.idSpecified || e.Key == "_id" || strings.HasPrefix(e.Key, "_id.")
		}
		if err := p.parseElement(e.Key, e.Value, nil, p.root); err != nil {
			return nil, err
		}
	}
	if p.typ == typeUnknown {
		p.typ = p.defaultType()
	}
	if !p.idSpecified && p.typ == typeInclusion {
		if err := addNodeAtPath(p.root, []string{"_id"}, &astNode{kind: astBool, include: true}); err != nil {
			return nil, err
		}
	}
	if p.typ == typeExclusion && p.idSpecified && p.idIncluded {
		// {_id: 1} in an exclusion projection is allowed and means nothing.
		p.root.removeChild("_id")
	}
	return p.build(), nil
}

// defaultType decides the kind of a projection that named no field other than _id and
// used only find operators, by mongod's compatibility rules.
func (p *parser) defaultType() projType {
	switch {
	case p.hasFindSlice:
		if p.idIncluded {
			return typeInclusion
		}
		return typeExclusion
	case p.hasElemMatch:
		return typeInclusion
	case p.idIncluded:
		return typeInclusion
	}
	return typeExclusion
}

// parseElement classifies one element of a (sub-)projection. parentPath is the full path
// of parent (nil at the top level).
func (p *parser) parseElement(key string, val any, parentPath []string, parent *astNode) error {
	positional := strings.HasSuffix(key, ".$")
	if positional && p.mode != Find {
		return mongoerr.Newf(31324, "Cannot use positional projection in aggregation projection")
	}
	if strings.Contains(key, ".$.") {
		return mongoerr.Newf(31394, "As of 4.4, it's illegal to specify positional operator in the middle of a path."+
			"Positional projection may only be used at the end, for example: a.b.$. If the query previously used a form "+
			"like a.b.$.d, remove the parts following the '$' and the results will be equivalent.")
	}
	switch v := val.(type) {
	case bson.D:
		if positional {
			return mongoerr.Newf(31271, "positional projection cannot be used with an expression or sub object")
		}
		return p.parseSubObject(key, v, parentPath, parent)
	case bool, int32, int64, float64, bson.Decimal128:
		if value.Truthy(v) {
			return p.parseInclusion(key, positional, parentPath, parent)
		}
		if positional {
			return mongoerr.Newf(31395, "positional projection cannot be used with exclusion")
		}
		return p.parseExclusion(key, parent)
	}
	if positional {
		return mongoerr.Newf(31308, "positional projection cannot be used with a literal")
	}
	return p.parseLiteral(key, val, parent)
}

func (p *parser) parseInclusion(key string, positional bool, parentPath []string, parent *astNode) error {
	topID := key == "_id" && parent == p.root
	if !positional {
		parts, err := value.SplitFieldPath(key)
		if err != nil {
			return err
		}
		if err := addNodeAtPath(parent, parts, &astNode{kind: astBool, include: true}); err != nil {
			return err
		}
		if topID {
			p.idIncluded = true
		}
	} else {
		if p.hasPositional {
			return mongoerr.Newf(31276, "Cannot specify more than one positional projection per query.")
		}
		if p.hasElemMatch {
			return mongoerr.Newf(31256, "Cannot specify positional operator and $elemMatch.")
		}
		if key == ".$" {
			return mongoerr.Newf(5392900, "Projection on field %s is invalid", key)
		}
		parts, err := value.SplitFieldPath(key[:len(key)-2])
		if err != nil {
			return err
		}
		if err := addNodeAtPath(parent, parts, &astNode{kind: astPositional}); err != nil {
			return err
		}
		p.hasPositional = true
	}
	if !topID {
		if p.typ == typeExclusion {
			return mongoerr.Newf(31253, "Cannot do inclusion on field %s in exclusion projection", key)
		}
		p.typ = typeInclusion
	}
	return nil
}

func (p *parser) parseExclusion(key string, parent *astNode) error {
	parts, err := value.SplitFieldPath(key)
	if err != nil {
		return err
	}
	if err := addNodeAtPath(parent, parts, &astNode{kind: astBool}); err != nil {
		return err
	}
	if key == "_id" && parent == p.root {
		p.idExcluded = true
		return nil
	}
	if p.typ == typeInclusion {
		return mongoerr.Newf(31254, "Cannot do exclusion on field %s in inclusion projection", key)
	}
	p.typ = typeExclusion
	return nil
}

// parseLiteral handles a value that is neither a number, a boolean nor a document: an
// aggregation operand such as "$a", "text", null or an array, computed into the field.
func (p *parser) parseLiteral(key string, val any, parent *astNode) error {
	e, err := expr.Compile(val, p.vars...)
	if err != nil {
		return err
	}
	parts, err := value.SplitFieldPath(key)
	if err != nil {
		return err
	}
	if err := addNodeAtPath(parent, parts, &astNode{kind: astExpr, expr: e}); err != nil {
		return err
	}
	if p.typ == typeExclusion {
		return mongoerr.Newf(31310, "Cannot use an expression %s: %s in an exclusion projection", key, value.Format(val))
	}
	p.typ = typeInclusion
	return nil
}

// parseSubObject handles a document value: an expression ({$add: ...}), a find operator
// ({$slice: 2}) or a nested projection ({b: 1}).
func (p *parser) parseSubObject(key string, obj bson.D, parentPath []string, parent *astNode) error {
	if len(obj) == 0 {
		return mongoerr.Newf(51270, "An empty sub-projection is not a valid value. Found empty object at path %s", key)
	}
	parts, err := value.SplitFieldPath(key)
	if err != nil {
		return err
	}
	if len(obj) == 1 && strings.HasPrefix(obj[0].Key, "$") {
		handled, err := p.parseSubObjectAsExpression(parts, obj, parent)
		if err != nil || handled {
			return err
		}
		// Not an operator: acceptable only if it is a valid field name such as "$id".
		name := strings.TrimSuffix(obj[0].Key, ".$")
		if _, err := value.SplitFieldPath(name); err != nil {
			return mongoerr.Newf(31325, "Unknown expression %s", obj[0].Key)
		}
	}
	newParent := findInnerNode(parent, parts)
	if newParent == nil {
		newParent = &astNode{kind: astPath}
		if err := addNodeAtPath(parent, parts, newParent); err != nil {
			return err
		}
	}
	full := append(append(make([]string, 0, len(parentPath)+len(parts)), parentPath...), parts...)
	for _, e := range obj {
		if err := p.parseElement(e.Key, e.Value, full, newParent); err != nil {
			return err
		}
	}
	return nil
}

// parseSubObjectAsExpression handles {$op: ...}; it reports false when $op is no operator.
func (p *parser) parseSubObjectAsExpression(parts []string, obj bson.D, parent *astNode) (bool, error) {
	name := obj[0].Key
	if p.mode == Find {
		switch name {
		case "$slice":
			sliceErr := p.parseFindSlice(parts, obj[0].Value, parent)
			if sliceErr == nil {
				return true, nil
			}
			// Not find's $slice syntax: maybe the aggregation $slice expression.
			if !expr.IsOperator(name) {
				return true, sliceErr
			}
			if _, err := p.parseGenericExpression(parts, obj, parent); err != nil {
				e := mongoerr.From(err)
				return true, mongoerr.Newf(e.Code, "Invalid $slice syntax. The given syntax %s did not match the find() syntax because :: %s :: The given syntax did not match the expression $slice syntax. :: caused by :: %s",
					value.Format(obj), mongoerr.From(sliceErr).Message, e.Message)
			}
			return true, nil
		case "$elemMatch":
			return true, p.parseElemMatch(parts, obj[0].Value, parent)
		}
	} else if name == "$elemMatch" {
		return true, mongoerr.Newf(mongoerr.InvalidPipelineOperator, "Cannot use $elemMatch in this context")
	}
	return p.parseGenericExpression(parts, obj, parent)
}

// parseGenericExpression compiles {$op: args} as a computed field.
func (p *parser) parseGenericExpression(parts []string, obj bson.D, parent *astNode) (bool, error) {
	name := obj[0].Key
	isMeta := name == "$meta"
	if !isMeta && !expr.IsOperator(name) {
		return false, nil
	}
	if p.typ == typeExclusion && !isMeta {
		return true, mongoerr.Newf(31252, "Cannot use expression other than $meta in exclusion projection")
	}
	if isMeta {
		return true, mongoerr.Newf(mongoerr.NotImplemented, "$meta projections are not supported")
	}
	if p.typ == typeUnknown {
		p.typ = typeInclusion
	}
	e, err := expr.Compile(obj, p.vars...)
	if err != nil {
		return true, err
	}
	return true, addNodeAtPath(parent, parts, &astNode{kind: astExpr, expr: e})
}

// parseFindSlice parses find's {$slice: n} or {$slice: [skip, limit]}.
func (p *parser) parseFindSlice(parts []string, arg any, parent *astNode) error {
	node := &astNode{kind: astSlice}
	if value.IsNumber(arg) {
		node.limit = safeInt32(arg)
	} else if arr, ok := arg.(bson.A); ok {
		if len(arr) != 2 {
			return mongoerr.Newf(31272, "$slice array argument should be of form [skip, limit]")
		}
		if !value.IsNumber(arr[0]) {
			return mongoerr.Newf(31257, "$slice expects the skip argument to be a number, got %s", value.TypeName(arr[0]))
		}
		if !value.IsNumber(arr[1]) {
			return mongoerr.Newf(31258, "$slice expects the limit argument to be a number, got %s", value.TypeName(arr[1]))
		}
		node.limit = safeInt32(arr[1])
		if node.limit <= 0 {
			return mongoerr.Newf(31259, "$slice limit must be positive, got %d", node.limit)
		}
		node.hasSkip, node.skip = true, safeInt32(arr[0])
	} else {
		return mongoerr.Newf(31273, "$slice only supports numbers and [skip, limit] arrays")
	}
	if err := addNodeAtPath(parent, parts, node); err != nil {
		return err
	}
	p.hasFindSlice = true
	return nil
}

// parseElemMatch parses find's {field: {$elemMatch: cond}}, allowed on top-level fields only.
func (p *parser) parseElemMatch(parts []string, arg any, parent *astNode) error {
	cond, ok := arg.(bson.D)
	if !ok {
		return mongoerr.Newf(31274, "elemMatch: Invalid argument, object required, but got %s", value.TypeName(arg))
	}
	if p.hasPositional {
		return mongoerr.Newf(31255, "Cannot specify positional operator and $elemMatch.")
	}
	if len(parts) != 1 || parent != p.root {
		return mongoerr.Newf(31275, "Cannot use $elemMatch projection on a nested field.")
	}
	m, err := match.Compile(bson.D{{Key: parts[0], Value: bson.D{{Key: "$elemMatch", Value: cond}}}}, nil)
	if err != nil {
		return err
	}
	if err := addNodeAtPath(parent, parts, &astNode{kind: astElemMatch, elem: m}); err != nil {
		return err
	}
	p.hasElemMatch = true
	return nil
}

// addNodeAtPath inserts n at parts below root, creating inner nodes, and rejects a path
// that collides with one already there (31250 when the exact path exists, 31249 when a
// prefix of it is a leaf).
func addNodeAtPath(root *astNode, parts []string, n *astNode) error {
	cur := root
	for i, name := range parts {
		c := cur.child(name)
		if i == len(parts)-1 {
			if c != nil {
				return mongoerr.Newf(31250, "Path collision at %s", strings.Join(parts, "."))
			}
			cur.names = append(cur.names, name)
			cur.kids = append(cur.kids, n)
			return nil
		}
		if c == nil {
			c = &astNode{kind: astPath}
			cur.names = append(cur.names, name)
			cur.kids = append(cur.kids, c)
		} else if c.kind != astPath {
			return mongoerr.Newf(31249, "Path collision at %s remaining portion %s",
				strings.Join(parts, "."), strings.Join(parts[1:], "."))
		}
		cur = c
	}
	return nil
}

// findInnerNode returns the inner node at parts below root, if there is one, so that
// {"a.b": 1, a: {c: 1}} merges both into the node of a.
func findInnerNode(root *astNode, parts []string) *astNode {
	cur := root
	for _, name := range parts {
		c := cur.child(name)
		if c == nil || c.kind != astPath {
			return nil
		}
		cur = c
	}
	return cur
}

// safeInt32 converts a number the way mongod's safeNumberInt does: truncating toward zero
// and saturating at the int32 range (NaN is 0).
func safeInt32(v any) int32 {
	var f float64
	switch x := v.(type) {
	case int32:
		return x
	case int64:
		f = float64(x)
	case float64:
		f = x
	case bson.Decimal128:
		f, _ = value.ToFloat64(x)
	}
	switch {
	case f != f:
		return 0
	case f >= 2147483647:
		return 2147483647
	case f <= -2147483648:
		return -2147483648
	}
	return int32(f)
}

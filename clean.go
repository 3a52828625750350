package modjo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// FullClean validates a model instance as Django's full_clean: every field's checks
// (max_length, choices, blank, null, min and max, email/URL/slug/IP, decimal digits,
// array size, custom validators) and then, against the database, unique fields,
// UniqueConstraints (with their conditions) and UniqueTogether, excluding the
// instance's own document. It returns nil, or a *ValidationError holding every
// message by field lookup name ("" for messages about several fields), with Django's
// wording ("Book with this Title already exists."). A uniqueness check is skipped when
// one of its fields already failed, as in Django. Database errors are returned as such.
func (db *DB) FullClean(ctx context.Context, obj any) error {
	info, err := db.resolve("full_clean", obj)
	if err != nil {
		return err
	}
	return db.fullClean(ctx, info, obj, nil)
}

// fullClean validates obj; with only set (a Save of some fields), it validates only
// those fields, as Django's full_clean(exclude=the others): messages about other fields
// are dropped and uniqueness checks involving another field are skipped.
func (db *DB) fullClean(ctx context.Context, info *modelInfo, obj any, only []string) error {
	meta := info.meta
	ve := meta.Validate(obj)
	if ve == nil {
		ve = &model.ValidationError{Model: meta.Name}
	}
	excluded := func(name string) bool {
		if only == nil {
			return false
		}
		top, _, _ := strings.Cut(name, ".")
		return !slices.Contains(only, top)
	}
	if only != nil {
		for name := range ve.Fields {
			if name != "" && excluded(name) {
				delete(ve.Fields, name)
			}
		}
	}
	checks := meta.UniqueChecks(obj)
	if len(checks) == 0 {
		return ve.Err()
	}
	pk, set := meta.PKValue(obj)
	var doc bson.Raw // the instance as stored, for conditional checks; encoded once
	for _, c := range checks {
		if slices.ContainsFunc(c.Fields, func(n string) bool { return len(ve.Fields[n]) > 0 || excluded(n) }) {
			continue
		}
		conds := bson.A{c.Filter}
		if c.Condition != nil {
			conds = append(conds, c.Condition)
		}
		if set || info.pk == pkComposite {
			conds = append(conds, bson.D{{Key: "_id", Value: bson.D{{Key: "$ne", Value: pk}}}})
		}
		var filter any = c.Filter
		if len(conds) > 1 {
			filter = bson.D{{Key: "$and", Value: conds}}
		}
		var taken bool
		if c.Condition == nil {
			n, err := info.coll.CountDocuments(ctx, filter, options.Count().SetLimit(1))
			if err != nil {
				return &opError{op: "full_clean", model: meta.Name, pk: formatPK(pk), field: strings.Join(c.Fields, ", "), msg: "unique check", err: err}
			}
			taken = n > 0
		} else {
			// A partial unique index only holds documents matching its condition, so the
			// instance conflicts only if it matches the condition too. The server decides
			// both in one round trip: find a conflicting document, swap in the instance,
			// and match the condition against it.
			if doc == nil {
				var err error
				if doc, err = meta.Encode(obj); err != nil {
					return &opError{op: "full_clean", model: meta.Name, pk: formatPK(pk), err: err}
				}
			}
			pipeline := bson.A{
				bson.D{{Key: "$match", Value: filter}},
				bson.D{{Key: "$limit", Value: int32(1)}},
				bson.D{{Key: "$replaceWith", Value: bson.D{{Key: "$literal", Value: doc}}}},
				bson.D{{Key: "$match", Value: c.Condition}},
				bson.D{{Key: "$project", Value: bson.D{{Key: "_id", Value: int32(1)}}}},
			}
			cur, err := info.coll.Aggregate(ctx, pipeline)
			if err == nil {
				taken = cur.Next(ctx)
				err = cur.Err()
				_ = cur.Close(ctx)
			}
			if err != nil {
				return &opError{op: "full_clean", model: meta.Name, pk: formatPK(pk), field: strings.Join(c.Fields, ", "), msg: "unique check", err: err}
			}
		}
		if !taken {
			continue
		}
		switch {
		case c.Condition != nil:
			ve.Add("", constraintMessage(meta, c))
		case len(c.Fields) == 1:
			ve.Add(c.Fields[0], info.uniqueMessage(c.Fields))
		default:
			ve.Add("", info.uniqueMessage(c.Fields))
		}
	}
	return ve.Err()
}

// uniqueMessage is Django's unique_error_message: "Book with this Title already
// exists.", "Book with this Title and Author already exists."
func (info *modelInfo) uniqueMessage(fields []string) string {
	labels := make([]string, len(fields))
	for i, n := range fields {
		label := strings.ReplaceAll(n, "_", " ")
		if f, ok := info.meta.Field(n); ok && f.VerboseName != "" {
			label = f.VerboseName
		}
		labels[i] = capFirst(label)
	}
	return fmt.Sprintf("%s with this %s already exists.", capFirst(modelVerboseName(info.meta)), textList(labels, "and"))
}

// constraintMessage is Django's default violation message of a conditional
// UniqueConstraint: Constraint “name” is violated.
func constraintMessage(meta *model.Meta, c model.UniqueCheck) string {
	for _, con := range meta.Options.Constraints {
		var uc model.UniqueConstraint
		switch x := con.(type) {
		case model.UniqueConstraint:
			uc = x
		case *model.UniqueConstraint:
			if x == nil {
				continue
			}
			uc = *x
		default:
			continue
		}
		if uc.Condition != nil && slices.Equal(uc.Fields, c.Fields) {
			return fmt.Sprintf("Constraint “%s” is violated.", uc.Name)
		}
	}
	return fmt.Sprintf("%s with this %s already exists.", capFirst(modelVerboseName(meta)), strings.Join(c.Fields, ", "))
}

// modelVerboseName is the model's verbose name, or Django's default for it: the
// model name split into lower-case words (BookReview → "book review").
func modelVerboseName(meta *model.Meta) string {
	if meta.Options.VerboseName != "" {
		return meta.Options.VerboseName
	}
	var b strings.Builder
	rs := []rune(meta.Name)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// capFirst upper-cases the first letter only (Django's capfirst).
func capFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// textList joins words as Django's get_text_list: "a", "a and b", "a, b and c".
func textList(words []string, last string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + last + " " + words[len(words)-1]
}

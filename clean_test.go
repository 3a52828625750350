package modjo_test

import (
	"context"
	"testing"

	"github.com/modjo-orm/modjo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFullCleanFieldMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Book{})

	require.NoError(t, db.FullClean(ctx, &Book{Title: "fine", Status: "draft"}))
	err := db.FullClean(ctx, &Book{Title: "a title far longer than twenty characters"})
	var ve *modjo.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Book", ve.Model)
	require.Len(t, ve.Fields["title"], 1)
	assert.Contains(t, ve.Fields["title"][0], "20")
}

func TestFullCleanUniqueField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Author{})

	ann := &Author{Name: "Ann", Email: "ann@example.com"}
	require.NoError(t, db.FullClean(ctx, ann))
	require.NoError(t, db.Save(ctx, ann))
	require.NoError(t, db.FullClean(ctx, ann), "its own document is not a conflict")

	err := db.FullClean(ctx, &Author{Name: "Impostor", Email: "ann@example.com"})
	var ve *modjo.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, map[string][]string{"email": {"Author with this Email already exists."}}, ve.Fields)
}

func TestFullCleanUniqueTogetherAndConstraint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t, Post{})

	first := &Post{Site: "blog", Slug: "hello", Title: "Hello", Status: "published"}
	require.NoError(t, db.Save(ctx, first))
	require.NoError(t, db.FullClean(ctx, first))

	// Same site and slug: unique_together, reported for the whole instance.
	err := db.FullClean(ctx, &Post{Site: "blog", Slug: "hello", Title: "Other", Status: "draft"})
	var ve *modjo.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, map[string][]string{"": {"Post with this Site and Slug already exists."}}, ve.Fields)

	// Another site: fine.
	require.NoError(t, db.FullClean(ctx, &Post{Site: "news", Slug: "hello", Title: "Other", Status: "draft"}))

	// The conditional constraint binds only published posts.
	require.NoError(t, db.FullClean(ctx, &Post{Site: "news", Slug: "x", Title: "Hello", Status: "draft"}),
		"a draft does not match the condition")
	err = db.FullClean(ctx, &Post{Site: "news", Slug: "x", Title: "Hello", Status: "published"})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, map[string][]string{"": {"Constraint “one_published_title” is violated."}}, ve.Fields)

	// A draft with that title exists; a second published post would conflict only with
	// published ones.
	require.NoError(t, db.Save(ctx, &Post{Site: "news", Slug: "y", Title: "Draft only", Status: "draft"}))
	require.NoError(t, db.FullClean(ctx, &Post{Site: "news", Slug: "z", Title: "Draft only", Status: "published"}))

	// Both at once.
	err = db.FullClean(ctx, &Post{Site: "blog", Slug: "hello", Title: "Hello", Status: "published"})
	require.ErrorAs(t, err, &ve)
	assert.ElementsMatch(t, []string{"Post with this Site and Slug already exists.", "Constraint “one_published_title” is violated."}, ve.Fields[""])
}

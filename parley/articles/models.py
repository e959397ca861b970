from django.db import models
from django.urls import reverse
from django.utils import timezone

from parley.sites.models import Site


class ArticleQuerySet(models.QuerySet["Article"]):
    def published(self) -> "ArticleQuerySet":
        return self.filter(published_at__lte=timezone.now())


class Article(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="articles")
    slug = models.SlugField(max_length=120, unique=True)
    headline = models.CharField(max_length=300)
    dek = models.CharField("standfirst", max_length=500, blank=True)
    author_name = models.CharField(max_length=200)
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="Leave empty to keep the article a draft."
    )
    body = models.TextField(
        help_text="Markdown. Put a figure on a line of its own as {figure 1}, {figure 2}, …"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return self.headline

    def get_absolute_url(self) -> str:
        return reverse("article", args=[self.slug])

    @property
    def uri(self) -> str:
        """The thread of an article is keyed by its page path."""
        return self.get_absolute_url()


class Figure(models.Model):
    """An image or map in an article; readers can open the original file at full size."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="figures")
    position = models.PositiveSmallIntegerField(default=1)
    image = models.ImageField(upload_to="figures/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    caption = models.CharField(max_length=500, blank=True)
    alt = models.CharField(max_length=300)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["article", "position"], name="figure_position_unique")
        ]

    def __str__(self) -> str:
        return self.caption or self.alt

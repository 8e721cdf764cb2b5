"""Courses (lessons, a quiz), requirements with mixed due rules, and the onboarding path."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from seedlib import words
from seedlib.library import Bodies, Doc
from seedlib.world import DAY, Spec, World

GRACE_DAYS = 14  # portal.training.requirements.GRACE_DAYS


@dataclass
class CourseInfo:
    id: int
    title: str
    published_at: datetime
    has_quiz: bool
    pass_mark: int | None
    validity_days: int | None
    republished_at: datetime | None  # version 2 from then on


@dataclass
class Req:
    id: int
    spec: Spec
    created_at: datetime
    due_rule: str
    due_on: date | None
    due_days: int | None
    course: CourseInfo | None = None
    doc: Doc | None = None

    def due(self, person) -> date:
        """The person's due date, by the portal's rule (no deadline that passed before it
        applied to them: then 14 days after it did)."""
        if self.due_rule == "fixed_date":
            rule = self.due_on
        elif self.due_rule == "after_hire":
            rule = person.hire_date + timedelta(days=self.due_days)
        else:
            rule = self.created_at.date() + timedelta(days=self.due_days)
        start = max(self.created_at.date(), person.created_at.date())
        return start + timedelta(days=GRACE_DAYS) if rule < start else rule


@dataclass
class Path:
    id: int
    version_id: int
    spec: Spec
    published_at: datetime
    tasks: list = field(default_factory=list)  # (step id, due day)


def declare_training(writer) -> None:
    writer.declare(
        "course",
        ("id", "slug", "title", "description", "estimated_minutes", "status", "owner_id",
         "partner_id", "audience_id", "has_quiz", "pass_mark", "max_attempts", "validity_days",
         "version", "created_at", "published_at"),
    )  # fmt: skip
    writer.declare(
        "lesson", ("id", "course_id", "position", "title", "body", "html", "document_id")
    )
    writer.declare("question", ("id", "course_id", "position", "text", "kind", "explanation"))
    writer.declare("choice", ("id", "question_id", "position", "text", "correct"))
    writer.declare(
        "requirement",
        ("id", "kind", "course_id", "document_id", "audience_id", "partner_id", "due_rule",
         "due_on", "due_days", "warning_days", "created_by_id", "created_at"),
    )  # fmt: skip
    writer.declare(
        "onboarding_path",
        ("id", "title", "description", "status", "owner_id", "partner_id", "audience_id",
         "created_at", "published_at"),
    )  # fmt: skip
    writer.declare(
        "onboarding_path_version",
        ("id", "path_id", "number", "phase_names", "note", "created_at", "published_at",
         "published_by_id"),
    )  # fmt: skip
    writer.declare(
        "onboarding_step",
        ("id", "version_id", "position", "due_day", "kind", "title", "description",
         "document_id", "course_id", "required"),
    )  # fmt: skip


def _lesson_documents(world: World) -> list[Doc]:
    return [
        d
        for d in world.documents
        if d.status == "published" and d.partner_id is None and d.spec == Spec()
    ]


def make_courses(world: World, count: int, bodies: Bodies) -> None:
    """``count`` published company-wide courses: 3-6 lessons (some a library document), half
    with a quiz, 40% with a validity period (recertification)."""
    rng, w = world.rng, world.writer
    documents = _lesson_documents(world)
    for n in range(count):
        topic = words.TOPICS[(n * 7) % len(words.TOPICS)]
        title = f"{topic.capitalize()}: {rng.choice(['essentials', 'certification', 'refresher'])}"
        course_id = world.next_id("course")
        published = world.when(world.launch - 30 * DAY, world.now - 45 * DAY)
        has_quiz = rng.random() < 0.5
        validity = rng.choices([None, 365, 180], [60, 30, 10])[0]
        republished = world.when(published, world.now) if rng.random() < 0.3 else None
        course = CourseInfo(
            course_id, title, published, has_quiz, 80 if has_quiz else None, validity, republished
        )
        w.add(
            "course",
            (course_id, f"course-{n + 1}-{topic.replace(' ', '-')}", title,
             f"What every agent needs to know about {topic}.", rng.choice([15, 20, 30, 45]),
             "published", world.staff_ids[1], None, world.audience(Spec(), published), has_quiz,
             course.pass_mark, rng.choice([None, 3]) if has_quiz else None, validity,
             2 if republished else 1, published - 7 * DAY, published),
        )  # fmt: skip
        for position in range(1, rng.randint(3, 6) + 1):
            lesson_id = world.next_id("lesson")
            if documents and rng.random() < 0.2:
                doc = rng.choice(documents)
                w.add("lesson", (lesson_id, course_id, position, doc.title, None, None, doc.id))
            else:
                body, html, _toc = bodies.get(topic, position, n % 3)
                heading = words.HEADINGS[position % len(words.HEADINGS)]
                w.add("lesson", (lesson_id, course_id, position, heading, body, html, None))
        if has_quiz:
            _quiz(world, course_id, topic)
        world.courses.append(course)


def _quiz(world: World, course_id: int, topic: str) -> None:
    rng, w = world.rng, world.writer
    for position in range(1, 5):
        question_id = world.next_id("question")
        sentence = words.SENTENCES[rng.randrange(len(words.SENTENCES))].format(topic=topic)
        w.add(
            "question",
            (question_id, course_id, position, f"True or false: {sentence}", "single",
             "This is what the lesson says."),
        )  # fmt: skip
        for number, (text, correct) in enumerate([("True", True), ("False", False)], 1):
            w.add("choice", (world.next_id("choice"), question_id, number, text, correct))


def _due_rule(world: World, created: datetime):
    rng = world.rng
    rule = rng.choices(["fixed_date", "after_hire", "after_required"], [35, 35, 30])[0]
    if rule == "fixed_date":
        return rule, created.date() + timedelta(days=rng.randint(14, 150)), None
    if rule == "after_hire":
        return rule, None, rng.choice([14, 30, 60, 90])
    return rule, None, rng.choice([14, 30, 45])


def make_requirements(world: World, document_count: int) -> None:
    """A requirement for every course, and for ``document_count`` documents asking for
    acknowledgement (company-wide, published). Due rules mixed; audiences mostly everyone."""
    rng, w = world.rng, world.writer
    targets = [("course", c, c.published_at) for c in world.courses]
    docs = [d for d in world.documents if d.requires_ack and d.partner_id is None]
    docs = [d for d in docs if d.status == "published"][:document_count]
    targets += [("document", d, max(d.versions[0].published_at, world.launch)) for d in docs]
    for kind, target, available in targets:
        created = min(available + rng.uniform(0, 20) * DAY, world.now - DAY)
        rule, due_on, due_days = _due_rule(world, created)
        spec = world.random_spec(everyone=0.7)
        req = Req(world.next_id("requirement"), spec, created, rule, due_on, due_days)
        if kind == "course":
            req.course = target
        else:
            req.doc = target
            target.required = True
        w.add(
            "requirement",
            (req.id, kind, target.id if kind == "course" else None,
             target.id if kind == "document" else None, world.audience(spec, created), None,
             rule, due_on, due_days, 30, rng.choice(world.staff_ids[1:]), created),
        )  # fmt: skip
        world.requirements.append(req)


def make_path(world: World, bodies: Bodies) -> None:
    """One published agent path of about 15 steps over 90 days: documents to acknowledge,
    required courses and hands-on tasks a trainer signs off."""
    rng, w = world.rng, world.writer
    published = world.now - 200 * DAY
    spec = Spec(roles=frozenset({"agent"}))
    path_id = world.next_id("onboarding_path")
    version_id = world.next_id("onboarding_path_version")
    w.add(
        "onboarding_path",
        (path_id, "Agent 90-day path", "From your first day to production-ready.", "published",
         world.staff_ids[1], None, world.audience(spec, published), published - 5 * DAY,
         published),
    )  # fmt: skip
    w.add(
        "onboarding_path_version",
        (version_id, path_id, 1, ["Days 1-30", "Days 31-60", "Days 61-90"], "First version",
         published - 5 * DAY, published, world.staff_ids[1]),
    )  # fmt: skip
    documents = [d for d in world.documents if d.requires_ack and d.partner_id is None]
    documents = [d for d in documents if d.status == "published" and d.spec == Spec()]
    documents.sort(key=lambda d: (d.kind != "onboarding", d.id))
    courses = [r.course for r in world.requirements if r.course and r.spec == Spec()]
    steps = [("document", day, d) for day, d in zip([1, 2, 3, 7, 14], documents, strict=False)]
    steps += [("course", day, c) for day, c in zip([10, 30, 45], courses, strict=False)]
    task_days = [5, 12, 20, 28, 40, 55, 70, 85, 90]
    steps += [("task", day, None) for day in task_days[: max(0, 15 - len(steps))]]
    path = Path(path_id, version_id, spec, published)
    for position, (kind, day, target) in enumerate(sorted(steps, key=lambda s: s[1]), 1):
        step_id = world.next_id("onboarding_step")
        if kind == "task":
            title = words.TASKS[len(path.tasks) % len(words.TASKS)]
            path.tasks.append((step_id, day))
        else:
            title = target.title
        w.add(
            "onboarding_step",
            (step_id, version_id, position, day, kind, title, "", target.id if kind ==
             "document" else None, target.id if kind == "course" else None,
             kind != "task" or rng.random() < 0.9),
        )  # fmt: skip
    w.update("onboarding_path", "id", "current_version_id", {path_id: version_id})
    world.path = path


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)

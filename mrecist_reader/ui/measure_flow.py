"""The measure flow: from a caliper drawn or a click to a value recorded.

A gesture on a viewer becomes a :class:`~mrecist_reader.desk.desk.DrawnCaliper` (patient
millimetres and the image it was drawn on, converted once, in
:class:`~mrecist_reader.ui.timepoint_view.TimepointView`). The desk says what it means
(:func:`~mrecist_reader.desk.intent.caliper_intent`) and checks the image; this module
only asks the reader the questions that decision needs (which lesion, organ and
location, a doubtful caliper) and passes the answers back to the desk.
"""

import contextlib
import logging
import math
import threading
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from mrecist_reader.core.errors import MrecistError, RuleViolation
from mrecist_reader.core.model import (
    Caliper,
    LesionType,
    MeasurementEvidence,
    Method,
    NewLesionStatus,
    NonTargetStatus,
)
from mrecist_reader.core.units import format_mm
from mrecist_reader.core.wording import word
from mrecist_reader.desk.desk import DrawnCaliper, Proposal, ReadingDesk
from mrecist_reader.desk.intent import Action, Answer, Intent, Question
from mrecist_reader.imaging.geometry import index_to_patient
from mrecist_reader.imaging.volume import Volume
from mrecist_reader.ui import dialogs
from mrecist_reader.ui.caliper import (
    CaliperSpec,
    IndexPoint,
    caliper_from_indices,
    caliper_lock_reason,
)
from mrecist_reader.ui.errors import error_boundary
from mrecist_reader.ui.outline import OutlineSpec
from mrecist_reader.ui.timepoint_view import TimepointView
from mrecist_reader.ui.workers import run_in_thread

logger = logging.getLogger(__name__)

PROPOSAL_ID = "proposal"
"""The lesion ID under which the viewer draws a proposed caliper."""

_warmed = threading.Event()


def ask_about_caliper(
    parent: QWidget | None, question: Question, *, at_baseline: bool
) -> Answer | None:
    """Ask whether a doubtful caliper measures a lesion or adds one (Cancel: default).

    Returns :attr:`Answer.MEASURE`, :attr:`Answer.NEW` or ``None`` (cancel).
    """
    lesion_id = question.lesion_id
    box = QMessageBox(parent)
    box.setObjectName(
        "overlapCaliperDialog" if question.is_overlap else "farCaliperDialog"
    )
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(f"Is this {lesion_id}?")
    box.setText(question.message)
    box.setInformativeText(
        f"Counting one lesion twice changes the sum. Choose {lesion_id} only if it is "
        f"{lesion_id}."
    )
    verb = "Re-measure" if question.is_overlap else "Record as"
    measure = box.addButton(f"{verb} {lesion_id}", QMessageBox.ButtonRole.AcceptRole)
    new = box.addButton(
        "Add as new target" if at_baseline else "Add as new lesion",
        QMessageBox.ButtonRole.ActionRole,
    )
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)  # Enter, pressed by habit, must not record it
    box.exec()
    clicked = box.clickedButton()
    if clicked is measure:
        return Answer.MEASURE
    return Answer.NEW if clicked is new else None


def ask_new_lesion_status(
    parent: QWidget | None, lesion_id: str
) -> NewLesionStatus | None:
    """Ask a new lesion's status where it has none yet (no default; Cancel: None)."""
    box = QMessageBox(parent)
    box.setObjectName("newLesionStatusDialog")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(f"Status of {lesion_id}")
    box.setText(f"{lesion_id} has no status at this timepoint yet. What is it now?")
    present = box.addButton(
        "Unequivocal (progression)", QMessageBox.ButtonRole.AcceptRole
    )
    equivocal = box.addButton("Equivocal", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    if clicked is present:
        return NewLesionStatus.PRESENT
    return NewLesionStatus.EQUIVOCAL if clicked is equivocal else None


class MeasureFlow:
    """Turns the reader's calipers and clicks into desk commands, asking as needed."""

    def __init__(
        self,
        parent: QWidget,
        desk: ReadingDesk,
        say: Callable[[str, int], None],
        baseline_view: TimepointView,
        *,
        set_measure_mode: Callable[[bool], None],
    ) -> None:
        self.parent = parent
        self.desk = desk
        self.say = say
        self.baseline_view = baseline_view
        self.set_measure_mode = set_measure_mode

    # ------------------------------------------------------------------ gestures
    def on_caliper_drawn(
        self, view: TimepointView, p1: IndexPoint, p2: IndexPoint
    ) -> None:
        """Record a caliper the reader drew."""
        with error_boundary(self.parent, "Measure"):
            self.record(view.drawn_caliper(p1, p2, Method.MANUAL))

    def on_caliper_edited(
        self, view: TimepointView, lesion_id: str, p1: IndexPoint, p2: IndexPoint
    ) -> None:
        """Record a caliper whose ends were dragged (or adjust the proposal)."""
        with error_boundary(self.parent, "Edit caliper"):
            if lesion_id == PROPOSAL_ID:
                stack = view.viewer.stack
                if stack is not None:
                    self.desk.edit_proposal(caliper_from_indices(stack.affine, p1, p2))
                return
            self._record_edit(view, lesion_id, p1, p2)

    def _record_edit(
        self, view: TimepointView, lesion_id: str, p1: IndexPoint, p2: IndexPoint
    ) -> None:
        session = self.desk.session
        if session is None or view.timepoint_index is None:
            raise MrecistError("open a study before measuring")
        old = session.read.observation(lesion_id, view.timepoint_index)
        method = Method.MANUAL
        if old is not None and old.method in (
            Method.SEMI_AUTOMATIC,
            Method.SEMI_AUTOMATIC_EDITED,
        ):
            method = Method.SEMI_AUTOMATIC_EDITED
        self._measure(lesion_id, view.drawn_caliper(p1, p2, method))

    def on_point_clicked(self, view: TimepointView, point: IndexPoint) -> None:
        """Propose a semi-automatic caliper at a clicked point."""
        with error_boundary(self.parent, "Semi-automatic measurement"):
            try:
                self.propose_at(view, point)
            except MrecistError as miss:  # a missed click is common: no modal dialog
                self.say(miss_message(miss), 10000)

    def propose_at(self, view: TimepointView, point: IndexPoint) -> None:
        """Propose a semi-automatic caliper for the lesion at a clicked voxel."""
        from mrecist_reader.imaging.measure import longest_viable_diameter

        if view.volume is None:
            raise MrecistError("the series is still loading; click again in a moment")
        seed = index_to_patient(view.volume.affine, np.asarray(point, dtype=float))
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            found = longest_viable_diameter(
                view.volume, (float(seed[0]), float(seed[1]), float(seed[2]))
            )
        finally:
            QApplication.restoreOverrideCursor()
        drawn = view.drawn_in_mm(
            Caliper(_point(found.p1_mm), _point(found.p2_mm)), Method.SEMI_AUTOMATIC
        )
        points = view.index_points(drawn.caliper)
        if points is not None:  # show the slice it lies on
            view.viewer.set_slice(round(points[0][0]))
        proposal = Proposal.from_measurement(drawn, found)
        self.desk.propose(proposal)
        self.say(proposal_message(proposal), 0)

    def accept(self) -> None:
        """Record the proposed semi-automatic caliper."""
        drawn = self.desk.take_proposal()
        if drawn is not None:
            self.record(drawn)

    def reject(self) -> None:
        """Discard the proposed caliper; with none, leave measure mode (Esc)."""
        if self.desk.reject_proposal():
            self.say("Proposal discarded", 3000)
        else:
            self.set_measure_mode(False)

    # ------------------------------------------------------------------ recording
    def record(self, drawn: DrawnCaliper) -> None:
        """Record a caliper as the desk says it is meant, asking where it is in doubt.

        Refused before any question when it was not drawn on the open series or its
        timepoint is signed.
        """
        intent: Intent | None = self.desk.intent(drawn)
        if intent is not None and intent.question is not None:
            answer = ask_about_caliper(
                self.parent, intent.question, at_baseline=drawn.timepoint_index == 0
            )
            intent = intent.answered(answer)
        if intent is None:
            self.say("Caliper not recorded", 5000)
            return
        if intent.action is Action.MEASURE and intent.lesion_id is not None:
            self._measure(intent.lesion_id, drawn)
        elif intent.action is Action.DESIGNATE:
            self._designate(drawn)
        else:
            self._add_new_lesion(drawn)

    def _measure(self, lesion_id: str, drawn: DrawnCaliper) -> None:
        status = None
        if self.desk.needs_status(lesion_id, drawn.timepoint_index):
            status = ask_new_lesion_status(self.parent, lesion_id)
            if status is None:
                self.say("Caliper not recorded", 5000)
                return
        value = self.desk.measure(lesion_id, drawn, status=status)
        self.say(
            f"{lesion_id}: {value / 10:.1f} mm recorded ({word(drawn.method)})"
            + evidence_note(drawn.evidence),
            5000,
        )

    def _designate(self, drawn: DrawnCaliper) -> None:
        length_mm = drawn.caliper.length() / 10
        answer = dialogs.ask_lesion(
            self.parent, types=(LesionType.TARGET,), caliper_mm=length_mm
        )
        if answer is None:
            return
        try:
            lesion_id = self.desk.designate(drawn, answer.organ, answer.location)
        except RuleViolation as refusal:
            if dialogs.ask_record_as_non_target(self.parent, str(refusal)):
                lesion_id = self.desk.add_non_target(
                    answer.organ, answer.location, drawn
                )
                self.say(f"Recorded as non-target {lesion_id}", 5000)
            return
        self.say(
            f"{lesion_id}: target, {length_mm:.1f} mm ({word(drawn.method)})", 5000
        )

    def _add_new_lesion(self, drawn: DrawnCaliper) -> None:
        length_mm = drawn.caliper.length() / 10
        answer = dialogs.ask_lesion(
            self.parent,
            types=(LesionType.NEW,),
            default_type=LesionType.NEW,
            caliper_mm=length_mm,
        )
        if answer is None or answer.new_status is None:
            return
        lesion_id = self.desk.add_new_lesion(
            answer.organ, answer.location, answer.new_status, drawn
        )
        self.say(
            f"{lesion_id}: new lesion ({word(answer.new_status)}), {length_mm:.1f} mm",
            5000,
        )

    # ------------------------------------------------------------------ without caliper
    def ask_add_lesion(self) -> None:
        """Add a non-target (baseline) or new lesion (follow-up) without a caliper."""
        session = self.desk.session
        if session is None:
            raise MrecistError("open a study first")
        index = self.desk.timepoint_index
        session.check_editable(index)
        kind = LesionType.NON_TARGET if index == 0 else LesionType.NEW
        answer = dialogs.ask_lesion(self.parent, types=(kind,), default_type=kind)
        if answer is None:
            return
        if index == 0:  # a position marker where it is (no caliper, no length)
            at = self._baseline_marker()
            lesion_id = (
                self.desk.add_non_target(answer.organ, answer.location)
                if at is None
                else self.desk.mark_non_target(answer.organ, answer.location, at)
            )
        elif answer.new_status is not None:
            lesion_id = self.desk.add_new_lesion(
                answer.organ, answer.location, answer.new_status
            )
        else:
            return
        self.say(f"{lesion_id} added", 5000)

    def _baseline_marker(self) -> DrawnCaliper | None:
        try:
            return self.baseline_view.marker()
        except MrecistError as gap:  # a blank slice: the lesion is added unmarked
            logger.info("no marker: %s", gap)
            return None

    def set_status(self, token: str) -> None:
        """Record a status for the selected lesion at the current timepoint."""
        lesion_id = self.desk.selected_lesion
        try:
            self.desk.set_status(token)
        except RuleViolation as refusal:
            if refusal.allowed != "progression with cytology_confirmed":
                raise
            self._record_fluid_progression(lesion_id or "")
            return
        self.say(f"{lesion_id}: {token.replace('_', ' ')} recorded", 5000)

    def _record_fluid_progression(self, lesion_id: str) -> None:
        confirmed = dialogs.ask_cytology_confirmed(self.parent, lesion_id)
        if confirmed is None:
            return
        self.desk.select_lesion(lesion_id)
        if confirmed:
            self.desk.set_status(NonTargetStatus.PROGRESSION, cytology_confirmed=True)
        else:
            self.desk.set_status(NonTargetStatus.PRESENT)

    # ------------------------------------------------------------------ warm-up
    def warm_up(self, volume: Volume) -> None:
        """Run the semi-automatic measure once in the background (first click fast).

        The first measurement of a process pays for imports and first-call set-up;
        done once on a small region after the first volume loads, the reader's first
        click does not.
        """
        if _warmed.is_set():
            return
        _warmed.set()
        run_in_thread(
            warm_measure,
            volume,
            on_done=lambda _result: logger.debug("measure warmed up"),
            on_error=lambda error: logger.info("measure warm-up: %s", error),
        )


def warm_measure(volume: Volume) -> None:
    """Measure once at the centre of a small copy of a volume's middle (warm-up)."""
    from mrecist_reader.imaging.measure import longest_viable_diameter

    shape = volume.array.shape
    centre = [size // 2 for size in shape]
    seed = index_to_patient(volume.affine, np.asarray(centre, dtype=float))
    with contextlib.suppress(
        MrecistError
    ):  # nothing enhancing there: it ran all the same
        longest_viable_diameter(
            volume, (float(seed[0]), float(seed[1]), float(seed[2]))
        )


def miss_message(miss: MrecistError) -> str:
    """Say why a click found no lesion; suggest a caliper only where one may belong.

    Tissue that does not enhance (necrosis, plain liver) is not measured by mRECIST,
    so a caliper is not suggested there.
    """
    from mrecist_reader.imaging.measure import NotEnhancing

    if isinstance(miss, NotEnhancing):
        return str(miss)
    return f"{miss}; draw the caliper instead if a lesion is there"


def proposal_message(proposal: Proposal) -> str:
    """Say what a proposal measured, what to check, and what the keys do.

    "Proposed 34.2 mm viable (whole lesion 42.0 mm, perpendicular 25.1 mm). Enter
    accepts, Esc rejects, drag its ends to adjust. Check: touches a vessel: check the
    outline." (The warnings are on the proposal's label too; the outline's legend is
    its tooltip.)
    """
    sizes = [f"{proposal.diameter_mm:.1f} mm viable"]
    extra = []
    if math.isfinite(proposal.whole_diameter_mm):
        extra.append(f"whole lesion {proposal.whole_diameter_mm:.1f} mm")
    if math.isfinite(proposal.viable_perpendicular_mm):
        extra.append(f"perpendicular {proposal.viable_perpendicular_mm:.1f} mm")
    if extra:
        sizes.append(f"({', '.join(extra)})")
    text = f"Proposed {' '.join(sizes)}."
    text += " Enter accepts, Esc rejects, drag its ends to adjust."
    if proposal.warnings:
        text += " Check: " + "; ".join(proposal.warnings) + "."
    return text


def evidence_note(evidence: MeasurementEvidence | None) -> str:
    """Say what is kept with a recorded caliper besides its diameter ("" for none).

    "; kept: whole lesion 42.0 mm, perpendicular 25.1 mm, 1 check"
    """
    if evidence is None:
        return ""
    kept = []
    if evidence.whole_diameter is not None:
        kept.append(f"whole lesion {format_mm(evidence.whole_diameter)} mm")
    if evidence.perpendicular is not None:
        kept.append(f"perpendicular {format_mm(evidence.perpendicular)} mm")
    if evidence.checks:
        count = len(evidence.checks)
        kept.append(f"{count} check{'s' if count > 1 else ''}")
    return "; kept: " + ", ".join(kept) if kept else ""


def outline_spec(desk: ReadingDesk, view: TimepointView) -> OutlineSpec | None:
    """Return the proposal's outline as a view draws it (``None``: none there)."""
    proposal = desk.proposal
    return None if proposal is None else view.outline_spec(proposal)


def _point(values: object) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)  # type: ignore[attr-defined]
    return (x, y, z)


def caliper_specs(desk: ReadingDesk, view: TimepointView) -> list[CaliperSpec]:
    """Return what a view draws: the calipers recorded on its series, and a proposal.

    The only place recorded millimetres become voxel indices (for drawing).
    """
    session = desk.session
    index = view.timepoint_index
    if session is None or view.viewer.stack is None or index is None:
        return []
    specs = []
    for observation in session.read.observations_at(index):
        if observation.caliper is None or observation.series_instance_uid not in (
            "",
            view.series_uid,
        ):
            continue
        points = view.index_points(observation.caliper)
        if points is None:
            continue
        reason = caliper_lock_reason(session.read, observation.lesion_id, index)
        specs.append(
            CaliperSpec(
                observation.lesion_id,
                round(points[0][0]),
                points[0],
                points[1],
                editable=not reason,
                selected=observation.lesion_id == desk.selected_lesion,
                locked_reason=reason,
            )
        )
    return specs + _marker_specs(desk, view) + proposal_specs(desk, view)


def _marker_specs(desk: ReadingDesk, view: TimepointView) -> list[CaliperSpec]:
    """Return the position markers of non-targets added with N on this view's series."""
    index = view.timepoint_index
    if index is None:
        return []
    specs = []
    for lesion_id, drawn in desk.markers(index):
        if drawn.series_instance_uid != view.series_uid:
            continue
        points = view.index_points(drawn.caliper)
        if points is None:
            continue
        specs.append(
            CaliperSpec(
                lesion_id,
                round(points[0][0]),
                points[0],
                points[0],
                editable=False,
                selected=lesion_id == desk.selected_lesion,
                locked_reason=f"{lesion_id}: where it was seen (not a measurement)",
                marker=True,
            )
        )
    return specs


def proposal_specs(desk: ReadingDesk, view: TimepointView) -> list[CaliperSpec]:
    """Return the proposal's caliper as a view draws it (none when not on it)."""
    proposal = desk.proposal
    if proposal is None:
        return []
    drawn = proposal.drawn
    if (drawn.subject_id, drawn.timepoint_index, drawn.series_instance_uid) != (
        view.subject_id,
        view.timepoint_index,
        view.series_uid,
    ):
        return []
    points = view.index_points(drawn.caliper)
    if points is None:
        return []
    p1, p2 = points
    outline = view.outline_spec(proposal)  # converted once, kept by the view
    below = None
    if outline is not None:
        below = max(
            y for polygon in outline.viable + outline.necrotic for _, y in polygon
        )
    return [
        CaliperSpec(
            PROPOSAL_ID,
            round(p1[0]),
            p1,
            p2,
            proposal=True,
            note="\n".join(proposal.warnings),
            label_below=below,
        )
    ]

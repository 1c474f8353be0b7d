#include "core/jobs/job_list_model.h"

namespace msplit {

JobListModel::JobListModel(JobQueue* queue, QObject* parent)
    : QAbstractListModel(parent), queue_(queue) {
    connect(queue_, &JobQueue::itemAdded, this, &JobListModel::onAdded);
    connect(queue_, &JobQueue::itemChanged, this, &JobListModel::onChanged);
}

void JobListModel::setRecords(const QList<JobRecord>& records) {
    beginResetModel();
    QList<Row> kept;
    for (const Row& r : rows_)
        if (r.queueId) kept << r;
    rows_ = kept;
    for (const JobRecord& record : records)
        rows_ << Row{0, true, record};
    endResetModel();
}

void JobListModel::onAdded(int id) {
    beginInsertRows({}, 0, 0);
    rows_.prepend(Row{id, false, {}});
    endInsertRows();
}

void JobListModel::onChanged(int id) {
    const int row = rowOfQueueId(id);
    const JobQueue::Item* item = queue_->item(id);
    if (row < 0 || !item) return;
    if (item->state == JobQueue::State::Done) {
        rows_[row].hasRecord = true;
        rows_[row].record = item->result;
    }
    Q_EMIT dataChanged(index(row), index(row));
}

int JobListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(rows_.size());
}

QVariant JobListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row& row = rows_[index.row()];
    const JobQueue::Item* item = row.queueId ? queue_->item(row.queueId) : nullptr;
    const JobRecord* record = row.hasRecord ? &row.record : nullptr;
    switch (role) {
        case Qt::DisplayRole:
        case TitleRole:
            return record ? record->title : item ? item->title : QString();
        case Qt::ToolTipRole:
        case SourceRole:
            return record ? record->source : item ? item->source : QString();
        case ModelRole:
            return record ? record->model : item ? item->model : QString();
        case StateRole:
            return int(item ? item->state : JobQueue::State::Done);
        case ProgressRole:
            return item ? item->progress : 1.0;
        case EtaRole:
            return item ? item->etaSeconds : 0.0;
        case StageRole:
            return item ? item->stage : tr("Done");
        case ErrorRole:
            return item ? item->error : QString();
        case DurationRole:
            return record ? record->durationSeconds : 0.0;
        case StemCountRole:
            return record ? int(record->stems.size()) : 0;
        case QueueIdRole:
            return row.queueId;
        case ActiveRole:
            return item && (item->state == JobQueue::State::Queued ||
                            item->state == JobQueue::State::Running);
        default:
            return {};
    }
}

QHash<int, QByteArray> JobListModel::roleNames() const {
    return {{TitleRole, "title"},       {ModelRole, "model"},     {StateRole, "state"},
            {ProgressRole, "progress"}, {EtaRole, "eta"},         {StageRole, "stage"},
            {ErrorRole, "error"},       {SourceRole, "source"},   {DurationRole, "duration"},
            {StemCountRole, "stems"},   {QueueIdRole, "queueId"}, {ActiveRole, "active"}};
}

const JobRecord* JobListModel::recordAt(int row) const {
    if (row < 0 || row >= rows_.size() || !rows_[row].hasRecord) return nullptr;
    return &rows_[row].record;
}

int JobListModel::queueIdAt(int row) const {
    return row >= 0 && row < rows_.size() ? rows_[row].queueId : 0;
}

int JobListModel::rowOfQueueId(int id) const {
    for (int i = 0; i < rows_.size(); ++i)
        if (rows_[i].queueId == id) return i;
    return -1;
}

void JobListModel::removeAt(int row) {
    if (row < 0 || row >= rows_.size()) return;
    beginRemoveRows({}, row, row);
    rows_.removeAt(row);
    endRemoveRows();
}

}  // namespace msplit

#pragma once
// The queue and the library as one list for views: songs queued this session first (newest
// first), then the library's results. Rows follow the queue's signals; a delegate paints them.
#include <QAbstractListModel>
#include <QList>

#include "core/jobs/job_queue.h"
#include "core/jobs/library.h"

namespace msplit {

class JobListModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role {
        TitleRole = Qt::UserRole + 1,  // also Qt::DisplayRole
        ModelRole,                     // the model's name
        StateRole,                     // JobQueue::State as int; library results are Done
        ProgressRole,                  // 0..1
        EtaRole,                       // seconds left; -1 unknown
        StageRole,                     // "Separating", "Writing stems"...
        ErrorRole,                     // why it failed
        SourceRole,                    // the song's file
        DurationRole,                  // seconds of audio, once done
        StemCountRole,                 // once done
        QueueIdRole,                   // the queue's id; 0 for results loaded from the library
        ActiveRole,                    // queued or running: its button cancels
    };

    explicit JobListModel(JobQueue* queue, QObject* parent = nullptr);

    // Results from the library, after the queue's rows (replaces the previous ones).
    void setRecords(const QList<JobRecord>& records);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    // The finished result of a row, if it has one.
    const JobRecord* recordAt(int row) const;
    int queueIdAt(int row) const;
    int rowOfQueueId(int id) const;
    // Drops a row; the queue item must have ended (JobQueue::remove) and the files are the
    // caller's to delete.
    void removeAt(int row);

private:
    struct Row {
        int queueId = 0;
        bool hasRecord = false;
        JobRecord record;
    };
    void onAdded(int id);
    void onChanged(int id);

    JobQueue* queue_;
    QList<Row> rows_;
};

}  // namespace msplit
